"""E-mail and webhook settings that cannot work are refused at start, naming the variable."""

from __future__ import annotations

import pytest

from config import Settings, SettingsError

HOOK = {"ZHUNRU_WEBHOOK_URL": "https://bridge.county.example/zhunru"}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ZHUNRU_SMTP_HOST": "mail.county.example"}, "ZHUNRU_SMTP_FROM"),
        ({"ZHUNRU_SMTP_HOST": "mail", "ZHUNRU_SMTP_FROM": "nobody"}, "ZHUNRU_SMTP_FROM"),
        (HOOK, "ZHUNRU_WEBHOOK_SECRET"),
        ({**HOOK, "ZHUNRU_WEBHOOK_SECRET": "short"}, "ZHUNRU_WEBHOOK_SECRET"),
        (
            {"ZHUNRU_WEBHOOK_URL": "ftp://x", "ZHUNRU_WEBHOOK_SECRET": "s" * 32},
            "ZHUNRU_WEBHOOK_URL",
        ),
        ({"ZHUNRU_DELIVERY_MAX_ATTEMPTS": "0"}, "ZHUNRU_DELIVERY_MAX_ATTEMPTS"),
        ({"ZHUNRU_SMTP_PORT": "twenty-five"}, "ZHUNRU_SMTP_PORT"),
    ],
)
def test_unworkable_channel_settings_are_refused(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_channels_are_off_by_default_and_on_when_complete() -> None:
    assert (Settings.from_env({}).smtp_host, Settings.from_env({}).webhook_url) == ("", "")
    on = Settings.from_env(
        {
            "ZHUNRU_SMTP_HOST": "mail.county.example",
            "ZHUNRU_SMTP_FROM": "zhunru@county.example",
            **HOOK,
            "ZHUNRU_WEBHOOK_SECRET": "s" * 32,
            "ZHUNRU_PUBLIC_URL": "https://zhunru.county.example/",
        }
    )
    assert on.smtp_port == 25 and on.public_url == "https://zhunru.county.example"
