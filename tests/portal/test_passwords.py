"""Passwords that may not be set: too short, common, too few distinct characters,
or the email address; wherever passwords are set (admin page, CLI, services)."""

from __future__ import annotations

import pytest

from portal.admin.services import save_user
from portal.auth.passwords import common_passwords, password_problem
from portal.errors import InvalidInput
from portal.extensions import db
from portal.models import User


@pytest.mark.parametrize("password", [
    "aaaaaaaa", "abababab", "12341234", "password", "Password1", "12345678", "qwertyuiop", "iloveyou",
    "sunshine", "  PASSWORD  ",
])
def test_common_and_trivial_passwords_are_refused(password):
    assert "too common" in password_problem(password, "admin@example.com")


def test_short_passwords_and_the_email_are_refused():
    assert "at least 8" in password_problem("Xy7!", "a@example.com")
    assert "email" in password_problem("Jane.Doe@Example.com", "jane.doe@example.com")
    assert "email" in password_problem("jane.doe.smith", "jane.doe.smith@example.com")


@pytest.mark.parametrize("password", ["correct-horse-battery", "collateral-demo", "long-enough", "Vg7#kq2m"])
def test_reasonable_passwords_are_accepted(password):
    assert password_problem(password, "someone@example.com") is None


def test_the_shipped_list_is_small_and_only_holds_what_the_length_rule_lets_through():
    words = common_passwords()
    assert 8000 <= len(words) <= 10_000
    assert all(len(w) >= 8 and w == w.lower() for w in words)


def test_an_admin_cannot_get_aaaaaaaa(client, auth, factories, runner):
    admin = factories.user("admin")
    with pytest.raises(InvalidInput) as refused:
        save_user("new-admin@example.com", role="admin", password="aaaaaaaa")
    assert "too common" in refused.value.fields["password"]

    auth.login(admin)
    response = client.post("/admin/users", data={"email": "x@example.com", "role": "admin", "password": "aaaaaaaa"})
    assert response.status_code == 422 and b"too common" in response.data
    response = client.post(f"/admin/users/{admin.id}", data={"role": "admin", "active": "1", "password": "password1"})
    assert response.status_code == 302
    assert not db.session.get(User, admin.id).check_password("password1")

    result = runner.invoke(args=["create-user", "cli@example.com", "--role", "admin", "--password", "qwerty123"])
    assert result.exit_code != 0 and "too common" in result.output
    result = runner.invoke(args=["create-user", "cli@example.com", "--role", "admin", "--password",
                                 "cli@example.com"])
    assert result.exit_code != 0 and "email" in result.output
