"""The one order of secrecy levels and clearances."""

import pytest

from vanban.platform.clearance import Clearance


def test_levels_are_ordered_by_secrecy_not_by_name() -> None:
    assert sorted(Clearance, reverse=True) == [
        Clearance.TOP_SECRET,
        Clearance.SECRET,
        Clearance.CONFIDENTIAL,
        Clearance.NONE,
    ]
    # Alphabetically "confidential" < "none" < "secret" < "top_secret".
    assert Clearance.NONE < Clearance.CONFIDENTIAL
    assert max(Clearance.NONE, Clearance.CONFIDENTIAL) is Clearance.CONFIDENTIAL
    assert Clearance.SECRET >= Clearance.SECRET > Clearance.CONFIDENTIAL


def test_a_clearance_covers_its_level_and_those_below() -> None:
    assert [level for level in Clearance if Clearance.SECRET.covers(level)] == [
        Clearance.NONE,
        Clearance.CONFIDENTIAL,
        Clearance.SECRET,
    ]
    assert not Clearance.NONE.covers(Clearance.CONFIDENTIAL)


def test_a_clearance_never_compares_with_a_plain_string() -> None:
    # str's order would put "none" above "confidential".
    with pytest.raises(TypeError):
        _ = Clearance.CONFIDENTIAL < "none"
    with pytest.raises(TypeError):
        _ = "none" > Clearance.CONFIDENTIAL


def test_values_are_the_strings_tokens_and_columns_carry() -> None:
    carried: str = "top_secret"  # as a token, a column or JSON carries it
    assert Clearance.TOP_SECRET == carried
    assert Clearance("secret") is Clearance.SECRET
    assert f"{Clearance.CONFIDENTIAL}" == "confidential"


@pytest.mark.parametrize(
    ("value", "parsed", "held"),
    [
        ("confidential", Clearance.CONFIDENTIAL, Clearance.CONFIDENTIAL),
        ("cosmic", None, Clearance.NONE),
        ("", None, Clearance.NONE),
        (None, None, Clearance.NONE),
        ("SECRET", None, Clearance.NONE),
    ],
)
def test_unknown_names_fail_closed(
    value: object, parsed: Clearance | None, held: Clearance
) -> None:
    assert Clearance.parse(value) is parsed
    assert Clearance.held(value) is held
