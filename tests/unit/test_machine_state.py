"""SptPageSlots (oracles/model/machine_state.py), the fast way both
inspectors make SptPages, against SptPage's own constructor: the same
fields in the same order, same values, still frozen."""

import dataclasses
import inspect
import random

import pytest

from oracles.model.machine_state import ANON, FILE, UNINIT, SptPage, SptPageSlots


def fast_spt_page(**fields) -> SptPage:
    """An SptPage made as the inspectors make theirs."""
    page = SptPageSlots(*(fields.get(f.name, f.default) for f in dataclasses.fields(SptPage)))
    page.__class__ = SptPage
    return page


def test_sptpageslots_takes_sptpages_fields_in_their_order():
    fields = dataclasses.fields(SptPage)
    parameters = list(inspect.signature(SptPageSlots).parameters.values())
    assert [p.name for p in parameters] == [f.name for f in fields]
    assert SptPageSlots.__slots__ == SptPage.__slots__


@pytest.mark.parametrize("seed", range(10))
def test_an_sptpage_made_from_its_slots_equals_the_constructors_value(seed):
    rng = random.Random(seed)
    maybe = lambda make: None if rng.random() < 0.3 else make()  # noqa: E731
    kw = dict(va=rng.randrange(1 << 47) & ~0xFFF, type=rng.choice([UNINIT, ANON, FILE]),
              writable=maybe(lambda: rng.random() < 0.5),
              frame_pa=maybe(lambda: rng.randrange(1 << 30)),
              swap_slot=maybe(lambda: rng.randrange(1000)), dirty=maybe(lambda: rng.random() < 0.5),
              busy=rng.random() < 0.5, swap_slot_known=rng.random() < 0.5)
    fast, slow = fast_spt_page(**kw), SptPage(**kw)
    assert type(fast) is SptPage and fast == slow and hash(fast) == hash(slow)
    assert dataclasses.astuple(fast) == dataclasses.astuple(slow)
    assert repr(fast) == repr(slow) and fast.resident == slow.resident
    assert dataclasses.replace(fast, va=0) == dataclasses.replace(slow, va=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.va = 0
