"""Typed settings read from ZHUNRU_* environment variables; imports nothing of the project."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _log_level(env: Mapping[str, str], default: str) -> str:
    level = (env.get("ZHUNRU_LOG_LEVEL") or default).strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise SettingsError(
            f"ZHUNRU_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}"
        )
    return level


@dataclass(frozen=True)
class Settings:
    """Everything the service may be configured with. Passed in explicitly, never global."""

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'zhunru.db'}"
    # Signs bearer tokens. No default: a deployment that forgets it must fail loudly.
    secret_key: str = ""
    token_ttl_seconds: int = 8 * 3600
    max_body_bytes: int = 1024 * 1024
    # Sign-in protection. An account (and any name tried, existing or not) is locked for
    # `login_lockout_minutes` after `login_max_failures` failed sign-ins within
    # `login_failure_window_minutes`; kept in the database, so it holds across processes.
    login_max_failures: int = 5
    login_failure_window_minutes: int = 15
    login_lockout_minutes: int = 15
    # Password policy (等保 2.0 asks for length and complexity): at least this many characters,
    # of at least this many of the four kinds (upper case, lower case, digits, other).
    password_min_length: int = 10
    password_min_classes: int = 3
    # Failed sign-ins one client address may make (Flask-Limiter notation, ";" between limits),
    # counted in the store at `ratelimit_storage_uri` (memory:// is per process; several
    # processes share a count through e.g. redis://host:6379).
    login_address_limit: str = "30 per 15 minutes"
    ratelimit_storage_uri: str = "memory://"
    # Reverse proxies in front of the service that append the client to X-Forwarded-For; 0
    # means clients connect directly and the header is ignored.
    trusted_proxy_hops: int = 0
    # The console's session cookie is sent over HTTPS only. On by default; only local
    # development over plain http (`make run`, the tests) turns it off.
    cookie_secure: bool = True
    bpmn_dir: Path = PROJECT_ROOT / "bpmn"
    demo_password: str = ""
    sql_echo: bool = False
    # Workflows with a step open each process keeps between commands (engine/workflow/live.py;
    # 0: restore every command), 20–200 KB of memory each.
    # And whether each reuse is checked against the stored state (the tests do).
    workflow_cache: int = 100
    workflow_cache_check: bool = False
    # Timezone in which due dates are shown and working days are counted.
    timezone: str = "Asia/Shanghai"
    # The trail's signed checkpoints: the log's name (first line of every checkpoint), the
    # Ed25519 signer key file (`zhunru audit keygen` writes one), and verifier keys of retired
    # signer keys, so that checkpoints they signed still verify.
    audit_origin: str = "zhunru/trail"
    audit_key_file: Path | None = None
    audit_verifier_keys: tuple[str, ...] = ()
    # Each human step's time limit and whom a late step is told to (local rules differ; see
    # config/steps.toml); the county's fault-tolerance circumstances and exclusions (a local
    # list, see config/tolerance.toml).
    step_rules_file: Path = PROJECT_ROOT / "config" / "steps.toml"
    tolerance_rules_file: Path = PROJECT_ROOT / "config" / "tolerance.toml"
    # The documents issued, their 文号 and who issues them (config/documents.toml).
    document_rules_file: Path = PROJECT_ROOT / "config" / "documents.toml"
    # Where issued documents and attachments are kept, each under its SHA-256.
    blob_dir: Path = PROJECT_ROOT / "var" / "blobs"
    # Or an S3-compatible object store (blob_store = "s3": MinIO, a cloud's object storage):
    # the endpoint (https://host:port, or http:// on a private network), bucket and keys.
    blob_store: str = "disk"
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = ""
    # The largest attachment one upload may carry, in MiB (a scanned policy document with its
    # annexes is a few MiB; a phone photo one or two).
    attachment_max_mb: int = 20
    # 精简会议: the county meetings a township may be required to attend in person in one
    # calendar month; approving one more in person is refused (video stays possible). 0: no cap.
    meeting_monthly_cap: int = 4
    # A long-term matter is re-evaluated this many months after entry, and again after that.
    reevaluation_months: int = 12
    # Seconds between a worker's polls for due timers when none were due.
    worker_poll_seconds: float = 5.0
    # Seconds between a worker's sweeps for stranded instances (releasing what it can and
    # counting the rest for the metrics); 0 turns the sweep off. It reads every live instance.
    stranded_sweep_seconds: int = 3600
    # An open step is reminded to whoever holds it, once, this many working days before its
    # last day (the last day counted); 0 sends no reminders.
    remind_days_before: int = 2
    # 费随事转: resources a township confirmed entry without are due from the applicant within
    # this many working days of the entry; a shortfall still open after that is escalated.
    shortfall_working_days: int = 20
    # Pre-check of applications (duty lists): fuzzy-match scores, 0-100, from which two Chinese
    # names count as the same matter; texts shorter than the minimum are compared only whole.
    catalog_match_threshold: int = 85
    catalog_negative_threshold: int = 90
    catalog_duplicate_threshold: int = 80
    catalog_min_match_chars: int = 4
    # Operations: a bearer token /metrics requires when set (empty: open, for a network that
    # only the scraper reaches); the level of the JSON logs.
    metrics_token: str = ""
    log_level: str = "INFO"
    # Notices beyond the console, each off until configured; the worker sends them, retrying
    # with growing pauses up to `delivery_max_attempts`, and no command ever waits for them.
    # E-mail over SMTP to each person's address (STARTTLS when asked; login when a user is
    # set); a JSON webhook (e.g. for a 政务微信/钉钉 bridge) signed with HMAC-SHA256 under the
    # secret; links in them start with `public_url` when set.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    delivery_max_attempts: int = 8
    public_url: str = ""
    # Sign-in to the console through the county's OpenID Connect provider (统一身份认证), off
    # while `oidc_issuer` is empty. The claim named by `oidc_username_claim` (from the ID token,
    # else the userinfo endpoint) is the person's username here; the label is the button's text.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_username_claim: str = "sub"
    oidc_label: str = "统一身份认证登录"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        return cls(
            database_url=env.get("ZHUNRU_DATABASE_URL") or defaults.database_url,
            secret_key=env.get("ZHUNRU_SECRET_KEY", ""),
            token_ttl_seconds=_int(env, "ZHUNRU_TOKEN_TTL_SECONDS", defaults.token_ttl_seconds),
            max_body_bytes=_int(env, "ZHUNRU_MAX_BODY_BYTES", defaults.max_body_bytes),
            login_max_failures=_int(env, "ZHUNRU_LOGIN_MAX_FAILURES", defaults.login_max_failures),
            login_failure_window_minutes=_int(
                env, "ZHUNRU_LOGIN_FAILURE_WINDOW_MINUTES", defaults.login_failure_window_minutes
            ),
            login_lockout_minutes=_int(
                env, "ZHUNRU_LOGIN_LOCKOUT_MINUTES", defaults.login_lockout_minutes
            ),
            password_min_length=_int(
                env, "ZHUNRU_PASSWORD_MIN_LENGTH", defaults.password_min_length
            ),
            password_min_classes=_int(
                env, "ZHUNRU_PASSWORD_MIN_CLASSES", defaults.password_min_classes
            ),
            login_address_limit=env.get("ZHUNRU_LOGIN_ADDRESS_LIMIT")
            or defaults.login_address_limit,
            ratelimit_storage_uri=env.get("ZHUNRU_RATELIMIT_STORAGE_URI")
            or defaults.ratelimit_storage_uri,
            trusted_proxy_hops=_int(env, "ZHUNRU_TRUSTED_PROXY_HOPS", defaults.trusted_proxy_hops),
            cookie_secure=_bool(env, "ZHUNRU_COOKIE_SECURE", defaults.cookie_secure),
            bpmn_dir=Path(env.get("ZHUNRU_BPMN_DIR") or defaults.bpmn_dir),
            demo_password=env.get("ZHUNRU_DEMO_PASSWORD", ""),
            sql_echo=_bool(env, "ZHUNRU_SQL_ECHO", False),
            workflow_cache=_int(env, "ZHUNRU_WORKFLOW_CACHE", defaults.workflow_cache),
            workflow_cache_check=_bool(env, "ZHUNRU_WORKFLOW_CACHE_CHECK", False),
            timezone=env.get("ZHUNRU_TIMEZONE") or defaults.timezone,
            audit_origin=env.get("ZHUNRU_AUDIT_ORIGIN") or defaults.audit_origin,
            audit_key_file=Path(env["ZHUNRU_AUDIT_KEY_FILE"])
            if env.get("ZHUNRU_AUDIT_KEY_FILE")
            else None,
            audit_verifier_keys=tuple(env.get("ZHUNRU_AUDIT_VERIFIER_KEYS", "").split()),
            step_rules_file=Path(env.get("ZHUNRU_STEP_RULES_FILE") or defaults.step_rules_file),
            document_rules_file=Path(
                env.get("ZHUNRU_DOCUMENT_RULES_FILE") or defaults.document_rules_file
            ),
            blob_dir=Path(env.get("ZHUNRU_BLOB_DIR") or defaults.blob_dir),
            attachment_max_mb=_int(env, "ZHUNRU_ATTACHMENT_MAX_MB", defaults.attachment_max_mb),
            blob_store=env.get("ZHUNRU_BLOB_STORE") or defaults.blob_store,
            s3_endpoint=env.get("ZHUNRU_S3_ENDPOINT", ""),
            s3_bucket=env.get("ZHUNRU_S3_BUCKET", ""),
            s3_access_key=env.get("ZHUNRU_S3_ACCESS_KEY", ""),
            s3_secret_key=env.get("ZHUNRU_S3_SECRET_KEY", ""),
            s3_region=env.get("ZHUNRU_S3_REGION", ""),
            meeting_monthly_cap=_int(
                env, "ZHUNRU_MEETING_MONTHLY_CAP", defaults.meeting_monthly_cap
            ),
            tolerance_rules_file=Path(
                env.get("ZHUNRU_TOLERANCE_RULES_FILE") or defaults.tolerance_rules_file
            ),
            reevaluation_months=_int(
                env, "ZHUNRU_REEVALUATION_MONTHS", defaults.reevaluation_months
            ),
            worker_poll_seconds=float(env.get("ZHUNRU_WORKER_POLL_SECONDS") or 5.0),
            stranded_sweep_seconds=_int(env, "ZHUNRU_STRANDED_SWEEP_SECONDS", 3600),
            remind_days_before=_int(env, "ZHUNRU_REMIND_DAYS_BEFORE", defaults.remind_days_before),
            shortfall_working_days=_int(
                env, "ZHUNRU_SHORTFALL_WORKING_DAYS", defaults.shortfall_working_days
            ),
            catalog_match_threshold=_int(
                env, "ZHUNRU_CATALOG_MATCH_THRESHOLD", defaults.catalog_match_threshold
            ),
            catalog_negative_threshold=_int(
                env, "ZHUNRU_CATALOG_NEGATIVE_THRESHOLD", defaults.catalog_negative_threshold
            ),
            catalog_duplicate_threshold=_int(
                env, "ZHUNRU_CATALOG_DUPLICATE_THRESHOLD", defaults.catalog_duplicate_threshold
            ),
            catalog_min_match_chars=_int(
                env, "ZHUNRU_CATALOG_MIN_MATCH_CHARS", defaults.catalog_min_match_chars
            ),
            metrics_token=env.get("ZHUNRU_METRICS_TOKEN", ""),
            log_level=_log_level(env, defaults.log_level),
            smtp_host=env.get("ZHUNRU_SMTP_HOST", ""),
            smtp_port=_int(env, "ZHUNRU_SMTP_PORT", defaults.smtp_port),
            smtp_username=env.get("ZHUNRU_SMTP_USERNAME", ""),
            smtp_password=env.get("ZHUNRU_SMTP_PASSWORD", ""),
            smtp_starttls=_bool(env, "ZHUNRU_SMTP_STARTTLS", defaults.smtp_starttls),
            smtp_from=env.get("ZHUNRU_SMTP_FROM", ""),
            webhook_url=env.get("ZHUNRU_WEBHOOK_URL", ""),
            webhook_secret=env.get("ZHUNRU_WEBHOOK_SECRET", ""),
            delivery_max_attempts=_int(
                env, "ZHUNRU_DELIVERY_MAX_ATTEMPTS", defaults.delivery_max_attempts
            ),
            public_url=env.get("ZHUNRU_PUBLIC_URL", "").rstrip("/"),
            oidc_issuer=env.get("ZHUNRU_OIDC_ISSUER", "").strip(),
            oidc_client_id=env.get("ZHUNRU_OIDC_CLIENT_ID", ""),
            oidc_client_secret=env.get("ZHUNRU_OIDC_CLIENT_SECRET", ""),
            oidc_username_claim=env.get("ZHUNRU_OIDC_USERNAME_CLAIM")
            or defaults.oidc_username_claim,
            oidc_label=env.get("ZHUNRU_OIDC_LABEL") or defaults.oidc_label,
        ).checked()

    def checked(self) -> Settings:
        """Refuse settings that cannot work together, naming the variable to fix."""
        if self.smtp_host and "@" not in self.smtp_from:
            raise SettingsError(
                "ZHUNRU_SMTP_FROM must be the sender's address when ZHUNRU_SMTP_HOST is set"
            )
        if self.webhook_url and not self.webhook_url.startswith(("https://", "http://")):
            raise SettingsError("ZHUNRU_WEBHOOK_URL must be an http(s) URL")
        if self.webhook_url and len(self.webhook_secret) < 32:
            raise SettingsError(
                "ZHUNRU_WEBHOOK_SECRET must be at least 32 characters "
                "when ZHUNRU_WEBHOOK_URL is set"
            )
        if self.delivery_max_attempts < 1:
            raise SettingsError("ZHUNRU_DELIVERY_MAX_ATTEMPTS must be at least 1")
        if self.password_min_length < 8:
            raise SettingsError("ZHUNRU_PASSWORD_MIN_LENGTH must be at least 8")
        if not 1 <= self.password_min_classes <= 4:
            raise SettingsError("ZHUNRU_PASSWORD_MIN_CLASSES must be 1 to 4")
        self._check_blob_store()
        if not 1 <= self.attachment_max_mb <= 1024:
            raise SettingsError("ZHUNRU_ATTACHMENT_MAX_MB must be 1 to 1024")
        if not 0 <= self.meeting_monthly_cap <= 100:
            raise SettingsError("ZHUNRU_MEETING_MONTHLY_CAP must be 0 (no cap) to 100")
        self._check_oidc()
        return self

    def _check_oidc(self) -> None:
        if not self.oidc_issuer:
            return
        issuer = urlsplit(self.oidc_issuer)
        if issuer.scheme not in {"https", "http"} or not issuer.netloc:
            raise SettingsError(
                f"ZHUNRU_OIDC_ISSUER must be an http(s) URL, got {self.oidc_issuer!r}"
            )
        if not self.oidc_client_id:
            raise SettingsError("ZHUNRU_OIDC_CLIENT_ID must be set when ZHUNRU_OIDC_ISSUER is set")
        if not self.oidc_client_secret:
            raise SettingsError(
                "ZHUNRU_OIDC_CLIENT_SECRET must be set when ZHUNRU_OIDC_ISSUER is set"
            )
        if not self.oidc_username_claim.strip():
            raise SettingsError("ZHUNRU_OIDC_USERNAME_CLAIM must name a claim")

    def _check_blob_store(self) -> None:
        if self.blob_store not in ("disk", "s3"):
            raise SettingsError("ZHUNRU_BLOB_STORE must be disk or s3")
        if self.blob_store == "disk":
            return
        for name, value in (
            ("ZHUNRU_S3_ENDPOINT", self.s3_endpoint),
            ("ZHUNRU_S3_BUCKET", self.s3_bucket),
            ("ZHUNRU_S3_ACCESS_KEY", self.s3_access_key),
            ("ZHUNRU_S3_SECRET_KEY", self.s3_secret_key),
        ):
            if not value:
                raise SettingsError(f"{name} must be set when ZHUNRU_BLOB_STORE is s3")
        if not self.s3_endpoint.startswith(("https://", "http://")):
            raise SettingsError("ZHUNRU_S3_ENDPOINT must be an http(s) URL")

    def require_secret(self) -> str:
        if len(self.secret_key) < 32:
            raise SettingsError(
                "ZHUNRU_SECRET_KEY must be set to at least 32 characters "
                "(for example: python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        return self.secret_key

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
