"""The form of sign-in credentials, refused alike by the gateway and the directory."""

import pytest

from vanban.platform.credentials import PASSWORD_MAX, check_credentials_format
from vanban.platform.errors import InvalidArgumentError


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("", "mat-khau", "username"),
        ("   ", "mat-khau", "username"),
        ("van\x00thu", "mat-khau", "username"),
        ("v" * 129, "mat-khau", "username"),
        ("vanthu", "", "password"),
        ("vanthu", "x" * (PASSWORD_MAX + 1), "password"),
    ],
)
def test_malformed_credentials_are_refused_naming_the_field(
    username: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        check_credentials_format(username, password)
    assert refused.value.reason == "INVALID_CREDENTIALS_FORMAT"
    assert [v.field for v in refused.value.violations] == [field]


def test_well_formed_credentials_pass_and_a_missing_password_is_not_checked() -> None:
    check_credentials_format("VanThu ", "x" * PASSWORD_MAX)
    check_credentials_format("vanthu", None)
