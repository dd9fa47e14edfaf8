from __future__ import annotations

import pytest

from vanban.directory.domain.unit import Unit, UnitChanges, ancestors, tree_order, would_cycle
from vanban.platform.errors import InvalidArgumentError

TREE = {
    unit.code: unit
    for unit in (
        Unit(code="VP", name="Văn phòng"),
        Unit(code="PTH", name="Phòng Tổng hợp", parent_code="VP"),
        Unit(code="TH1", name="Tổ 1", parent_code="PTH"),
        Unit(code="PNV", name="Phòng Nội vụ"),
        Unit(code="HC", name="Phòng Hành chính", parent_code="VP"),
    )
}


def test_a_unit_is_normalised_and_its_abbreviation_defaults_to_its_code() -> None:
    unit = Unit(
        code=" PTH ",
        name="  Phòng   Tổng hợp ",
        parent_code=" VP ",
        head_person_id="",
        deputy_person_ids=(" a ", "b", "a", " "),
    ).validated()
    assert unit == Unit(
        code="PTH",
        name="Phòng Tổng hợp",
        abbreviation="PTH",
        parent_code="VP",
        head_person_id=None,
        deputy_person_ids=("a", "b"),
    )


def test_every_bad_field_of_a_unit_is_named() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        Unit(
            code="vp thường",
            name=" ",
            abbreviation="X" * 31,
            parent_code="vp",
            head_person_id="p1",
            deputy_person_ids=("p1",),
        ).validated()
    assert {v.field for v in raised.value.violations} == {
        "code",
        "name",
        "abbreviation",
        "parent_code",
        "deputy_person_ids",
    }
    assert raised.value.reason == "INVALID_UNIT"


def test_a_unit_cannot_be_its_own_parent() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        Unit(code="VP", name="Văn phòng", parent_code="VP").validated()
    assert raised.value.violations[0].field == "parent_code"


def test_moving_under_itself_or_a_descendant_is_a_cycle_elsewhere_is_not() -> None:
    assert would_cycle(TREE, code="VP", new_parent="VP")
    assert would_cycle(TREE, code="VP", new_parent="PTH")
    assert would_cycle(TREE, code="VP", new_parent="TH1")  # a grandchild
    assert would_cycle(TREE, code="PTH", new_parent="TH1")
    assert not would_cycle(TREE, code="PTH", new_parent="PNV")
    assert not would_cycle(TREE, code="TH1", new_parent="HC")
    assert not would_cycle(TREE, code="PTH", new_parent=None)  # becoming a root


def test_ancestors_stop_even_if_the_data_loops() -> None:
    looped = {
        "A": Unit(code="A", name="A", parent_code="B"),
        "B": Unit(code="B", name="B", parent_code="A"),
    }
    assert ancestors(looped, "A") == ["A", "B"]
    assert ancestors(TREE, "TH1") == ["TH1", "PTH", "VP"]


def test_the_tree_lists_parents_before_children_and_siblings_by_code() -> None:
    order = [unit.code for unit in tree_order(reversed(list(TREE.values())))]
    assert order == ["PNV", "VP", "HC", "PTH", "TH1"]


def test_a_unit_with_an_unknown_parent_is_listed_as_a_root_not_lost() -> None:
    units = [Unit(code="B", name="B", parent_code="GONE"), Unit(code="A", name="A")]
    assert [u.code for u in tree_order(units)] == ["A", "B"]


def test_changes_touch_only_what_they_name_and_empty_clears() -> None:
    unit = Unit(
        code="PTH", name="Phòng Tổng hợp", abbreviation="TH", parent_code="VP", head_person_id="p1"
    )
    moved = UnitChanges(parent_code="").applied_to(unit)
    assert moved.parent_code is None and moved.name == unit.name and moved.head_person_id == "p1"
    renamed = UnitChanges(name="Phòng Tổng hợp - Hành chính", head_person_id="").applied_to(unit)
    assert renamed.name == "Phòng Tổng hợp - Hành chính"
    assert renamed.head_person_id is None and renamed.parent_code == "VP"
    assert renamed.abbreviation == "TH"
