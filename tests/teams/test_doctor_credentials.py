"""`cxbot doctor`'s Teams sign-in check with the settings a new admin gets wrong, against the fake Entra token
endpoint: each is a FAIL naming the variable and where to copy the right value from."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from handlers.teams.doctor import teams_checks
from tests.fakes.bf_identity import FakeIdentity

APP_ID = "2f1c6d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SECRET = "the-current-secret"
PASSWORD = SecretStr(SECRET)


@dataclass
class Teams:
    microsoft_app_id: str | None = APP_ID
    microsoft_app_password: SecretStr | None = PASSWORD
    microsoft_app_tenant_id: str | None = None
    microsoft_app_type: str = "MultiTenant"


@pytest.fixture
async def entra() -> AsyncIterator[FakeIdentity]:
    async with FakeIdentity() as fake:
        fake.apps[APP_ID] = SECRET
        fake.app_tenants[APP_ID] = TENANT  # a single-tenant Azure Bot, the only kind Azure makes now
        yield fake


async def _check(entra: FakeIdentity, settings: Teams):
    [check] = await teams_checks(settings=settings, emulator=False, login_url=entra.login_url)
    return check


async def test_a_single_tenant_bot_signs_in_with_its_type_and_tenant(entra: FakeIdentity) -> None:
    check = await _check(entra, Teams(microsoft_app_tenant_id=TENANT, microsoft_app_type="SingleTenant"))
    assert check.status == "ok" and TENANT in check.detail


async def test_the_tenant_without_single_tenant_says_to_set_the_type(entra: FakeIdentity) -> None:
    check = await _check(entra, Teams(microsoft_app_tenant_id=TENANT))
    assert check.status == "FAIL" and "AADSTS700016" in check.detail
    assert "MICROSOFT_APP_TYPE=SingleTenant" in check.fix and "ignores the tenant" in check.fix


@pytest.mark.parametrize(
    ("settings", "said", "fix"),
    [
        (Teams(microsoft_app_id="cxbot"), "MICROSOFT_APP_ID is not an app id", "Azure Bot's Configuration page"),
        (Teams(microsoft_app_id=APP_ID + " "), "MICROSOFT_APP_ID is not an app id", "Microsoft App ID"),
        (
            Teams(microsoft_app_tenant_id="Contoso Ltd", microsoft_app_type="SingleTenant"),
            "MICROSOFT_APP_TENANT_ID is not a tenant id",
            "Directory (tenant) ID",
        ),
    ],
)
async def test_a_malformed_id_is_named_before_entra_is_asked(
    entra: FakeIdentity, settings: Teams, said: str, fix: str
) -> None:
    check = await _check(entra, settings)
    assert check.status == "FAIL" and said in check.detail and fix in check.fix
    assert entra.token_requests == []


async def test_a_tenant_given_as_its_domain_is_asked(entra: FakeIdentity) -> None:
    check = await _check(
        entra, Teams(microsoft_app_tenant_id="contoso.onmicrosoft.com", microsoft_app_type="SingleTenant")
    )
    assert check.status == "FAIL" and "AADSTS700016" in check.detail  # asked: the fake knows the tenant by id only
    assert len(entra.token_requests) == 1


def test_serve_warns_at_start_when_the_tenant_would_be_ignored(caplog: pytest.LogCaptureFixture) -> None:
    from handlers.teams.adapter import BotConfiguration

    with caplog.at_level(logging.WARNING, logger="handlers.teams.adapter"):
        BotConfiguration.from_settings(Teams(microsoft_app_tenant_id=TENANT, microsoft_app_type="SingleTenant"))
        assert caplog.records == []
        configuration = BotConfiguration.from_settings(Teams(microsoft_app_tenant_id=TENANT))
    assert configuration.APP_TYPE == "MultiTenant"
    [warning] = caplog.records
    assert "set MICROSOFT_APP_TYPE=SingleTenant" in warning.getMessage()
