"""Access groups, the visibility rule, item attributes and documents as the domain says them (no database)."""

import uuid
from datetime import UTC, datetime

import pytest

from catalog.domain.access import AccessGroup, document_visible, visible_items
from catalog.domain.documents import MAX_SIZE, Document, content_type_of, filename_of
from catalog.domain.events import GroupChanged, GroupDeleted
from catalog.domain.items import Item, parse_attributes
from portal_runtime.errors import InvalidInput

NOW = datetime(2026, 1, 1, tzinfo=UTC)
A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def group(items=(A,), accounts=("acme",), name="Tools") -> AccessGroup:
    return AccessGroup.create(name=name, item_ids=items, account_ids=accounts, now=NOW)


def test_a_group_publishes_its_whole_state_and_each_change_is_the_next_revision():
    g = group(items=(A, B, A), accounts=("acme", "acme"))
    assert (g.item_ids, g.account_ids) == ([A, B], ["acme"]), "each once, in the given order"
    g.assign("globex", NOW)
    g.assign("globex", NOW)  # already in it: nothing
    g.unassign("nobody", NOW)  # not in it: nothing
    g.replace(name="Tools", item_ids=[A, B], account_ids=["acme", "globex"], now=NOW)  # the same state: nothing
    g.replace(name=" Tools+ ", item_ids=[C], account_ids=["globex"], now=NOW)
    g.unassign("globex", NOW)
    g.delete(NOW)
    assert [(type(e), e.revision) for e in g.events] == [
        (GroupChanged, 1),
        (GroupChanged, 2),
        (GroupChanged, 3),
        (GroupChanged, 4),
        (GroupDeleted, 5),
    ]
    assert (g.events[2].name, g.events[2].item_ids, g.events[2].account_ids) == ("Tools+", (C,), ("globex",))


@pytest.mark.parametrize(
    "name, accounts, field",
    [(" ", [], "name"), ("x" * 201, [], "name"), ("G", [""], "account_ids"), ("G", ["a" * 201], "account_ids")],
)
def test_a_bad_group_is_refused_naming_the_field_and_a_replace_leaves_it_as_it_was(name, accounts, field):
    with pytest.raises(InvalidInput) as err:
        group(name=name, accounts=accounts)
    assert err.value.field == field
    g = group()
    with pytest.raises(InvalidInput):
        g.replace(name=name, item_ids=[B], account_ids=accounts, now=NOW)
    assert (g.name, g.item_ids, g.account_ids, g.revision, len(g.events)) == ("Tools", [A], ["acme"], 1, 1)
    with pytest.raises(InvalidInput) as err:
        g.assign("x" * 201, NOW)
    assert err.value.field == "account_id"


def test_no_group_sees_everything_groups_see_the_union_of_their_items():
    assert visible_items([]) is None
    assert visible_items([group(items=(A,)), group(items=(B, A))]) == {A, B}
    assert visible_items([group(items=())]) == frozenset(), "in a group of no items: sees nothing"


def test_a_document_naming_no_group_is_everyone_s_else_only_its_groups_accounts():
    assert document_visible([], [])
    assert document_visible([], [A])
    assert document_visible([A, B], [B])
    assert not document_visible([A], [])
    assert not document_visible([A], [B])


def test_attributes_keep_their_order_and_bounds_name_the_field(seo_boost):
    assert list(parse_attributes({" size ": " M ", "material": "steel"}).items()) == [
        ("size", "M"),
        ("material", "steel"),
    ]
    for bad, field in (
        ({f"a{n}": "v" for n in range(21)}, "attributes"),
        ({"": "v"}, "attributes"),
        ({"n" * 41: "v"}, "attributes"),
        ({"size": " "}, "attributes.size"),
        ({"size": "v" * 201}, "attributes.size"),
        ({"Size": "M", "size": "L"}, "attributes.size"),
        ({"size": 3}, "attributes.size"),
    ):
        with pytest.raises(InvalidInput) as err:
            parse_attributes(bad)
        assert err.value.field == field, bad
    item = Item.create(**seo_boost, now=NOW, attributes={"size": "M"})
    assert item.attributes == {"size": "M"} and item.events[0].attributes == (("size", "M"),)
    with pytest.raises(InvalidInput):
        item.change(NOW, attributes={"size": ""}, name="Other")
    assert (item.attributes, item.name, item.revision) == ({"size": "M"}, "SEO boost", 1), "refused: unchanged"
    item.change(NOW, attributes={"warranty": "2 years"})
    assert item.attributes == {"warranty": "2 years"} and item.events[-1].attributes == (("warranty", "2 years"),)


def test_a_document_upload_is_checked_and_its_name_and_type_made_safe():
    doc = Document.upload(
        title=" Brochure ",
        filename="C:\\Users\\x\\brochure.pdf",
        content_type="application/pdf",
        content=b"%PDF",
        group_ids=[A, A],
        by="ops/admin",
        now=NOW,
    )
    assert (doc.title, doc.filename, doc.size, doc.group_ids) == ("Brochure", "brochure.pdf", 4, [A])
    for over, field in (
        ({"content": b""}, "file"),
        ({"content": b"x" * (MAX_SIZE + 1)}, "file"),
        ({"title": ""}, "title"),
        ({"title": "t" * 201}, "title"),
    ):
        with pytest.raises(InvalidInput) as err:
            Document.upload(
                **{"title": "T", "filename": "a", "content_type": None, "content": b"x", **over},
                group_ids=[],
                by="ops/admin",
                now=NOW,
            )
        assert err.value.field == field
    assert filename_of("../../etc/passwd") == "passwd" and filename_of(None) == "document"
    assert filename_of("a\x00b\n.txt") == "ab.txt" and len(filename_of("x" * 300 + ".pdf")) == 255
    assert filename_of("x" * 300 + ".pdf").endswith(".pdf")
    assert content_type_of("text/plain; charset=utf-8") == "text/plain; charset=utf-8"
    assert content_type_of("text/html\r\nSet-Cookie: a=b") == "application/octet-stream"
    assert content_type_of(None) == "application/octet-stream"
    doc.change(title="Brochure", group_ids=[A], now=NOW)
    assert doc.revision == 1, "the same title and groups: nothing"
    doc.change(title="New", group_ids=[], now=NOW)
    assert (doc.title, doc.group_ids, doc.revision) == ("New", [], 2)
