"""The helpers that use-case and log tests lean on (`portal_runtime.testing`): the fake
repository stores copies and tracks what it hands out, as the real unit of work does; a JSON log
is read line by line, and a line that is not JSON fails naming its source."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from portal_runtime.testing import FakeRepository, FakeUnitOfWork, json_lines


@dataclass
class Thing:
    id: int
    name: str
    events: list = field(default_factory=list)

    def rename(self, name: str) -> None:
        self.name = name
        self.events.append(f"{self.id} renamed {name}")


async def test_the_fake_repository_stores_on_commit_only_what_was_loaded_or_added():
    uow = FakeUnitOfWork(lambda event: event)
    things = FakeRepository(uow)
    things.add(Thing(1, "one"))
    await uow.commit()
    assert things.rows == {1: Thing(1, "one")} and await things.get(2) is None

    loaded = await things.get(1)
    loaded.rename("uno")
    assert things.rows[1].name == "one"  # a copy: nothing stored before the commit
    await uow.commit()
    assert things.rows[1] == Thing(1, "uno") and things.rows[1] is not loaded
    assert uow.published == ["1 renamed uno"] and uow.commits == 2


async def test_the_fake_repository_keys_rows_by_its_key_attribute():
    @dataclass
    class Invoice:
        invoice_id: str

    class Invoices(FakeRepository):
        key = "invoice_id"

    uow = FakeUnitOfWork(lambda event: event)
    invoices = Invoices(uow)
    invoices.add(Invoice("INV-1"))
    await uow.commit()
    assert invoices.rows == {"INV-1": Invoice("INV-1")}


def test_json_lines_reads_each_line_and_passes_over_blank_ones():
    assert json_lines('{"a": 1}\n\n  \n{"b": [2]}\n', "api") == [{"a": 1}, {"b": [2]}]
    assert json_lines("", "api") == []


def test_a_line_that_is_not_json_fails_naming_the_source_and_the_line():
    with pytest.raises(AssertionError, match=r"orders worker logged a line that is not JSON: 'Traceback'"):
        json_lines('{"a": 1}\nTraceback\n', "orders worker")
