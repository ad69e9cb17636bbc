"""Use cases of access groups, visibility, comparison, search and documents on the fake unit of work
(no database): what each stores and publishes, what a customer account sees, what is refused."""

from __future__ import annotations

import uuid

import pytest

from catalog.service.documents import Upload
from catalog.service.items import CreateItem
from portal_contracts.events.catalog import AccessGroupChanged, AccessGroupDeleted, CatalogItemPublished
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.paging import PageRequest

PAGE = PageRequest(limit=50)


@pytest.fixture
def goods(catalog):
    async def make(*specs: tuple[str, dict]) -> list:
        made = []
        for name, attributes in specs:
            cmd = CreateItem(
                sku=name.upper(),
                name=name,
                description=f"a {name.lower()} for work",
                currency="EUR",
                kind="good",
                prices=[{"cycle": "one_time", "price": "10.00"}],
                attributes=attributes,
            )
            made.append(await catalog.create_item(cmd))
        return made

    return make


async def test_groups_publish_their_whole_state_with_growing_revisions(access, uow, goods):
    drill, saw = await goods(("Drill", {}), ("Saw", {}))
    uow.published.clear()
    g = await access.create_group(name="Tools", item_ids=[drill.id], account_ids=["acme"])
    await access.assign(g.id, "globex")
    await access.assign(g.id, "globex")  # nothing changes, nothing is published
    await access.replace_group(g.id, name="Tools", item_ids=[drill.id, saw.id], account_ids=["globex"])
    await access.unassign(g.id, "globex")
    await access.delete_group(g.id)
    assert [(type(e), e.revision) for e in uow.published] == [
        (AccessGroupChanged, 1),
        (AccessGroupChanged, 2),
        (AccessGroupChanged, 3),
        (AccessGroupChanged, 4),
        (AccessGroupDeleted, 5),
    ]
    assert (uow.published[2].item_ids, uow.published[2].account_ids) == ([drill.id, saw.id], ["globex"])
    assert uow.groups.rows == {}
    with pytest.raises(NotFound):
        await access.get_group(g.id)


async def test_a_group_of_unknown_items_is_refused_naming_them_and_nothing_changes(access, uow, goods):
    [drill] = await goods(("Drill", {}))
    g = await access.create_group(name="Tools", item_ids=[drill.id], account_ids=[])
    uow.published.clear()
    unknown = uuid.uuid4()
    with pytest.raises(InvalidInput) as err:
        await access.create_group(name="X", item_ids=[drill.id, unknown], account_ids=[])
    assert err.value.field == "item_ids" and err.value.extra["unknown_ids"] == [str(unknown)]
    with pytest.raises(InvalidInput):
        await access.replace_group(g.id, name="Tools", item_ids=[unknown], account_ids=["acme"])
    assert uow.published == [] and len(uow.groups.rows) == 1 and uow.groups.rows[g.id].item_ids == [drill.id]
    with pytest.raises(NotFound):
        await access.assign(uuid.uuid4(), "acme")


async def test_a_customer_sees_its_groups_union_one_in_none_everything_on_every_read(catalog, access, goods):
    drill, saw, lathe = await goods(
        ("Drill", {"power": "800 W", "warranty": "2 years"}), ("Saw", {"power": "1200 W"}), ("Lathe", {})
    )
    await access.create_group(name="Tools", item_ids=[drill.id], account_ids=["acme"])
    await access.create_group(name="Saws", item_ids=[saw.id], account_ids=["acme"])
    listed = await catalog.list_items(status=None, page=PAGE, visible_to="acme")
    assert {i.id for i in listed.items} == {drill.id, saw.id}, "the union of both groups"
    assert len((await catalog.list_items(status=None, page=PAGE, visible_to="globex")).items) == 3
    assert [i.id for i in (await catalog.list_items(status=None, page=PAGE, q="LATHE", visible_to="acme")).items] == []
    assert [i.id for i in (await catalog.list_items(status=None, page=PAGE, q="lathe work")).items] == [lathe.id]
    with pytest.raises(NotFound):
        await catalog.get_item(lathe.id, include_retired=False, visible_to="acme")
    assert (await catalog.get_item(lathe.id, include_retired=False, visible_to="globex")).id == lathe.id
    compared = await catalog.compare([saw.id, drill.id], include_retired=False, visible_to="acme")
    assert [i.id for i in compared.items] == [saw.id, drill.id]
    assert compared.attributes == [("power", ["1200 W", "800 W"]), ("warranty", [None, "2 years"])]
    with pytest.raises(NotFound) as err:
        await catalog.compare([drill.id, lathe.id], include_retired=False, visible_to="acme")
    assert err.value.field == "ids" and str(lathe.id) in err.value.message
    for wrong in ([drill.id], [drill.id, drill.id], [drill.id, saw.id, lathe.id, uuid.uuid4(), uuid.uuid4()]):
        with pytest.raises(InvalidInput) as err:
            await catalog.compare(wrong, include_retired=False)
        assert err.value.field == "ids"


async def test_attributes_are_stored_and_published(catalog, uow, goods):
    [drill] = await goods(("Drill", {"power": "800 W"}))
    assert uow.items.rows[drill.id].attributes == {"power": "800 W"}
    assert isinstance(uow.published[-1], CatalogItemPublished) and uow.published[-1].attributes == {"power": "800 W"}
    await catalog.change_item(drill.id, {"attributes": {"power": "900 W", "size": "M"}})
    assert uow.published[-1].attributes == {"power": "900 W", "size": "M"} and uow.published[-1].revision == 2


async def test_documents_are_seen_by_their_groups_accounts_and_a_group_they_name_stays(documents, access, uow):
    g = await access.create_group(name="Tools", item_ids=[], account_ids=["acme"])

    def upload(title, groups=()):
        return Upload(title, "a.pdf", "application/pdf", b"%PDF", list(groups), "ops/admin")

    mine, everyone = await documents.upload(upload("Mine", [g.id])), await documents.upload(upload("All"))
    assert {d.id for d in (await documents.list(PAGE, visible_to="acme")).items} == {mine.id, everyone.id}
    assert {d.id for d in (await documents.list(PAGE, visible_to="globex")).items} == {everyone.id}
    with pytest.raises(NotFound):
        await documents.download(mine.id, visible_to="globex")
    assert (await documents.download(mine.id, visible_to="acme"))[1] == b"%PDF"
    with pytest.raises(Conflict):
        await access.delete_group(g.id)
    assert g.id in uow.groups.rows
    with pytest.raises(InvalidInput) as err:
        await documents.upload(upload("Bad", [uuid.uuid4()]))
    assert err.value.field == "group_ids" and len(uow.documents.rows) == 2
    await documents.change(mine.id, title="Mine", group_ids=[])
    await access.delete_group(g.id)
    await documents.delete(everyone.id)
    assert list(uow.documents.rows) == [mine.id]
