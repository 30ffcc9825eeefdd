"""Config guardrails: no secret in plain text, secret references that resolve (one message
per key), and principals scoped only to namespaces the stack declares."""

from __future__ import annotations

import json

import pytest
import yaml

from slipway.program.config import ConfigError, parse_config_values
from slipway.program.config.app_secrets import secret_word, suggested_key

from tests.helpers import project_copy, slipway_cli

REGION = "us-east-1"
APP = {
    "image": {"repository": "api", "tag": "2.7.0"},
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
}
DEVS = "arn:aws:iam::123456789012:role/developers"
SECRET_VALUE = "hunter2"
DSN = "https://pub:s3cr3tvalue@sentry.example.com/1"


def messages(values: dict, secret_keys: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config_values(values, region=REGION, stack="t", secret_keys=secret_keys)
    return exc.value.messages


def app_with(section: str, entries: dict) -> dict:
    return {"apps": {"api": {**APP, section: entries}}}


# ------------------------------------------------------------------ secrets in plain text

SECRET_NAMES = [
    ("DATABASE_PASSWORD", "PASSWORD"),
    ("DB_PASSWD", "PASSWD"),
    ("DB_PWD", "PWD"),
    ("GPG_PASSPHRASE", "PASSPHRASE"),
    ("JWT_SECRET", "SECRET"),
    ("CLIENT_SECRET", "SECRET"),
    ("GITHUB_TOKEN", "TOKEN"),
    ("githubToken", "TOKEN"),
    ("AWS_CREDENTIALS", "CREDENTIALS"),
    ("GCP_CREDENTIAL", "CREDENTIAL"),
    ("PRIVATE_KEY", "PRIVATE_KEY"),
    ("SSH_PRIVATE_KEY", "PRIVATE_KEY"),
    ("API_KEY", "API_KEY"),
    ("apiKey", "API_KEY"),
    ("APIKEY", "APIKEY"),
    ("AWS_SECRET_ACCESS_KEY", "ACCESS_KEY"),
    ("SECRET_KEY", "SECRET_KEY"),
    ("BASIC_AUTH", "AUTH"),
    ("DB_PASS", "PASS"),
    ("API_KEY_2", "API_KEY"),
    ("JWT_SECRET_PREVIOUS", "SECRET"),
    ("HTTPPassword", "PASSWORD"),
]


@pytest.mark.parametrize("section,lands", [("config", "the ConfigMap"), ("env", "the Deployment")])
@pytest.mark.parametrize("name,word", SECRET_NAMES)
def test_secret_looking_names_with_literal_values_are_refused(section, lands, name, word):
    msgs = messages(app_with(section, {"LOG_LEVEL": "info", name: SECRET_VALUE}))
    ref = suggested_key("api", name)
    assert msgs == [
        f"apps.api.{section}.{name}: (7 characters, hidden) looks like a secret (its name ends in {word}), written "
        f"in plain text: it would sit in git, in {lands} and in CI logs — move it to apps.api.secrets ({name}: "
        f"{ref}) and run `pulumi config set --secret slipway:{ref} <value>` (and rotate it if it was committed)"
    ]
    assert SECRET_VALUE not in "\n".join(msgs)


def test_the_suggested_key_follows_the_shipped_stacks_naming():
    msgs = messages({"apps": {"billing-api": {**APP, "config": {"DATABASE_PASSWORD": "x"}}}})
    assert "move it to apps.billing-api.secrets (DATABASE_PASSWORD: billingApiDatabasePassword)" in msgs[0]
    assert "(1 character, hidden)" in msgs[0]


def test_a_secret_written_as_a_number_is_refused_once_and_never_echoed():
    msgs = messages(app_with("config", {"DB_PIN_PASSWORD": 482913, "REQUIRE_PASSWORD": True}))
    assert msgs == [
        "apps.api.config.REQUIRE_PASSWORD: true is not a text value — write a text value here",
        "apps.api.config.DB_PIN_PASSWORD: (6 characters, hidden) looks like a secret (its name ends in PASSWORD), "
        "written in plain text: it would sit in git, in the ConfigMap and in CI logs — move it to apps.api.secrets "
        "(DB_PIN_PASSWORD: apiDbPinPassword) and run `pulumi config set --secret slipway:apiDbPinPassword <value>` "
        "(and rotate it if it was committed)",
    ]


LOOK_ALIKES = [
    "KEY_PREFIX",
    "CACHE_KEY",
    "CACHE_KEY_TTL",
    "PARTITION_KEY",
    "PUBLIC_KEY",
    "TOKEN_TTL_SECONDS",
    "TOKEN_URL",
    "PASSWORD_MIN_LENGTH",
    "PASSWORD_FILE",
    "SECRET_ARN",
    "SECRET_NAME",
    "AWS_ACCESS_KEY_ID",
    "OAUTH_CLIENT_ID",
    "AUTH_MODE",
    "AUTH",
    "PWD",
    "BYPASS_CACHE",
    "SECRETS_DIR",
]


@pytest.mark.parametrize("section", ["config", "env"])
def test_names_about_secrets_are_not_secrets(section):
    cfg = parse_config_values(app_with(section, {name: "some-value" for name in LOOK_ALIKES}), region=REGION)
    assert sorted(getattr(cfg.apps["api"], section)) == sorted(LOOK_ALIKES)
    assert [n for n in LOOK_ALIKES if secret_word(n)] == []


@pytest.mark.parametrize("value", ["", "$(DATABASE_PASSWORD)", "${DATABASE_PASSWORD}", "true", "False", "off"])
def test_values_that_are_never_secrets_pass_under_a_secret_name(value):
    cfg = parse_config_values(app_with("env", {"DATABASE_PASSWORD": value}), region=REGION)
    assert cfg.apps["api"].env == {"DATABASE_PASSWORD": value}


@pytest.mark.parametrize(
    "value,shape",
    [
        ("postgres://app:hunter2@db.internal:5432/app", "a URL with a password"),
        ("redis://:hunter2@cache:6379/0", "a URL with a password"),
        ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE", "a private key"),
        ("ghp_16C7e42F292c6912E7710c838347Ae178B4a", "an API token"),
    ],
)
def test_credential_shaped_values_are_refused_whatever_the_name(value, shape):
    (msg,) = messages(app_with("config", {"DATABASE_URL": value}))
    assert msg.startswith(f"apps.api.config.DATABASE_URL: ({len(value)} characters, hidden) holds {shape}, written ")
    assert msg.endswith(
        "move it to apps.api.secrets (DATABASE_URL: apiDatabaseUrl) and run "
        "`pulumi config set --secret slipway:apiDatabaseUrl <value>` (and rotate it if it was committed)"
    )
    assert value not in msg and "hunter2" not in msg


def test_a_url_whose_password_comes_from_a_secret_passes():
    env = {"DATABASE_URL": "postgres://app:$(DATABASE_PASSWORD)@db.internal:5432/app", "HOME_URL": "https://x.io"}
    cfg = parse_config_values(app_with("env", env), region=REGION)
    assert cfg.apps["api"].env == env


# ------------------------------------------------------------------ secret references


def two_apps(ref: str) -> dict:
    secrets = {"secrets": {"DATABASE_PASSWORD": ref}}
    return {"apps": {"api": {**APP, **secrets}, "worker": {**APP, "image": {"repository": "worker", "tag": "1"},
                                                              **secrets}}}  # fmt: skip


def test_a_plain_text_stored_secret_gets_one_message_and_no_unknown_key():
    msgs = messages({**two_apps("apiDatabasePassword"), "apiDatabasePassword": SECRET_VALUE})
    assert msgs == [
        "apps.api.secrets.DATABASE_PASSWORD: 'apiDatabasePassword' names slipway:apiDatabasePassword, which is "
        "stored in plain text (also named by apps.worker.secrets.DATABASE_PASSWORD) — re-set it with "
        "`pulumi config set --secret slipway:apiDatabasePassword <value>` (and rotate it: it is in your "
        "repository's history)"
    ]


def test_a_missing_secret_names_its_config_key_and_the_command():
    msgs = messages(two_apps("apiDatabasePassword"))
    assert msgs == [
        "apps.api.secrets.DATABASE_PASSWORD: 'apiDatabasePassword' names slipway:apiDatabasePassword, which is not "
        "set (also named by apps.worker.secrets.DATABASE_PASSWORD) — run "
        "`pulumi config set --secret slipway:apiDatabasePassword <value>`"
    ]


def test_a_misspelt_secret_key_gets_a_did_you_mean():
    values = {**app_with("secrets", {"DATABASE_PASSWORD": "apiDatabasePasword"}), "apiDatabasePassword": "[secret]"}
    (msg,) = messages(values, secret_keys=("slipway:apiDatabasePassword",))
    assert msg == (
        "apps.api.secrets.DATABASE_PASSWORD: 'apiDatabasePasword' names slipway:apiDatabasePasword, which is not "
        "set — did you mean 'apiDatabasePassword'? Or run `pulumi config set --secret slipway:apiDatabasePasword "
        "<value>`"
    )


def test_a_secret_value_written_as_the_reference_is_never_echoed():
    token = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
    (msg,) = messages(app_with("secrets", {"GITHUB_TOKEN": token}))
    assert token not in msg
    assert msg.startswith("apps.api.secrets.GITHUB_TOKEN: (40 characters, hidden) is a secret's value where")


def test_secret_references_that_resolve_pass():
    values = {**two_apps("apiDatabasePassword"), "apiDatabasePassword": "[secret]"}
    cfg = parse_config_values(values, region=REGION, secret_keys=["slipway:apiDatabasePassword"])
    assert cfg.apps["worker"].secrets == {"DATABASE_PASSWORD": "apiDatabasePassword"}


def test_argo_sso_keys_stored_in_plain_text_are_not_also_unknown_keys():
    sso = {"issuer": "https://login.example.com", "clientIdKey": "argoId", "clientSecretKey": "argoSecret"}
    argo = {"enabled": True, "authMode": "sso", "ingress": {"enabled": True, "host": "argo.example.com"}, "sso": sso}
    msgs = messages({"argo": argo, "argoId": "id", "argoSecret": SECRET_VALUE}, secret_keys=("slipway:argoId",))
    assert len(msgs) == 1 and msgs[0].startswith("argo.sso.clientSecretKey: "), msgs
    assert SECRET_VALUE not in msgs[0]


# ------------------------------------------------------------------ namespaces


def scoped(*namespaces: str, **extra) -> dict:
    return {"access": {"principals": [{"arn": DEVS, "access": "edit", "namespaces": list(namespaces)}]}, **extra}


def test_a_principal_scoped_to_an_undeclared_namespace_gets_did_you_mean():
    values = scoped("shop", "shopp", namespaces=["shop"], apps={"web": APP})
    assert messages(values) == [
        "access.principals[0].namespaces[1]: 'shopp' is not a namespace of this stack (no app, add-on or "
        "namespaces: entry declares it), so access to it would be access to nothing (or a namespace created by "
        "a typo) — did you mean 'shop'? Correct it, or declare it under slipway:namespaces"
    ]


def test_an_undeclared_namespace_without_a_close_match():
    (msg,) = messages(scoped("payments", apps={"web": APP}))
    assert msg.startswith("access.principals[0].namespaces[0]: 'payments' is not a namespace of this stack")
    assert msg.endswith("— correct it, or declare it under slipway:namespaces")


def test_declared_namespaces_are_apps_argo_explicit_and_kubernetes_own():
    argo = {"enabled": True, "namespace": "workflows"}
    cfg = parse_config_values(
        scoped("web", "shop", "workflows", "kube-system", "default", namespaces=["shop"], apps={"web": APP}, argo=argo),
        region=REGION,
    )
    assert cfg.created_namespaces == ["shop", "web", "workflows"]
    assert cfg.app_namespaces == {"web"}
    # Argo's namespace is declared only while Argo is enabled.
    (msg,) = messages(scoped("workflows", argo={"enabled": False, "namespace": "workflows"}))
    assert msg.startswith("access.principals[0].namespaces[0]: 'workflows' is not a namespace of this stack")


def test_the_namespaces_list_is_checked():
    msgs = messages({"namespaces": ["shop", "Shop", "kube-system", "kube-tools", "shop"]})
    assert msgs == [
        "namespaces[1]: 'Shop' is not a namespace name (a DNS-1123 label of at most 63 characters) — use lowercase "
        "letters, digits and '-', e.g. payments",
        "namespaces[2]: 'kube-system' is created by Kubernetes itself, never by slipway — remove it (principals "
        "may be scoped to it without declaring it)",
        "namespaces[3]: 'kube-tools' starts with kube-, which Kubernetes reserves for its own namespaces — choose a "
        "name without the kube- prefix",
        "namespaces[4]: 'shop' is listed twice (also namespaces[0]) — list it once",
    ]


# ------------------------------------------------------------------ end to end (slipway render)


def _plain_and_typos(text: str) -> str:
    """The dev stack with its secret stored in plain text, a secret in an app's config, a
    reference to a key never set, and a principal scoped to a misspelt namespace."""
    text = text.replace(
        "  slipway:apiDatabasePassword:\n    secure: v1:REPLACE-ME-with-pulumi-config-set-secret\n",
        f"  slipway:apiDatabasePassword: {SECRET_VALUE}\n",
    )
    text = text.replace("        DATABASE_HOST: api-db.dev.internal\n",
                        f"        DATABASE_HOST: api-db.dev.internal\n        REDIS_PASSWORD: {SECRET_VALUE}x\n"
                        f"      env:\n        SENTRY_DSN: {DSN}\n")  # fmt: skip
    text = text.replace("        access: edit\n", "        access: edit\n        namespaces: [shopp]\n")
    worker = "      secrets:\n        DATABASE_PASSWORD: apiDatabasePassword\n"
    text = text.replace(f"{worker}      strategy: {{type: Re", f"{worker}        API_TOKEN: workerApiToken\n"
                        "      strategy: {type: Re")  # fmt: skip
    return text + "  slipway:namespaces: [shop]\n"


def test_render_refuses_plain_secrets_and_namespace_typos(tmp_path):
    root = project_copy(tmp_path, text=_plain_and_typos)
    assert "namespaces: [shopp]" in (root / "stacks" / "Pulumi.dev.yaml").read_text()
    proc = slipway_cli("render", "dev", root=root)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = " ".join(proc.stderr.split())
    assert (
        "apps.api.config.REDIS_PASSWORD: (8 characters, hidden) looks like a secret (its name ends in PASSWORD), "
        "written in plain text: it would sit in git, in the ConfigMap and in CI logs — move it to apps.api.secrets "
        "(REDIS_PASSWORD: apiRedisPassword) and run `pulumi config set --secret slipway:apiRedisPassword <value>`"
    ) in err
    assert f"apps.api.env.SENTRY_DSN: ({len(DSN)} characters, hidden) holds a URL with a password" in err
    assert (
        "apps.api.secrets.DATABASE_PASSWORD: 'apiDatabasePassword' names slipway:apiDatabasePassword, which is "
        "stored in plain text (also named by apps.worker.secrets.DATABASE_PASSWORD) — re-set it with "
        "`pulumi config set --secret slipway:apiDatabasePassword <value>`"
    ) in err
    assert (
        "apps.worker.secrets.API_TOKEN: 'workerApiToken' names slipway:workerApiToken, which is not set — run "
        "`pulumi config set --secret slipway:workerApiToken <value>`"
    ) in err
    assert (
        "access.principals[1].namespaces[0]: 'shopp' is not a namespace of this stack (no app, add-on or "
        "namespaces: entry declares it)"
    ) in err and "did you mean 'shop'? Correct it, or declare it under slipway:namespaces" in err
    assert err.count("apiDatabasePassword, which") == 1 and "unknown key" not in err
    assert SECRET_VALUE not in proc.stderr + proc.stdout and "s3cr3tvalue" not in proc.stderr + proc.stdout
    assert "5 config errors" in err
    assert not (root / "build").exists()


def test_render_creates_declared_namespaces_and_never_kubernetes_own(tmp_path):
    def edit(config: dict) -> None:
        config["slipway:namespaces"] = ["payments", "tools"]  # tools: declared, no one scoped to it
        devs = config["slipway:access"]["principals"][1]
        devs["namespaces"] = ["payments", "kube-system", "api"]

    root = project_copy(tmp_path, edit=edit)
    proc = slipway_cli("render", "dev", root=root)
    assert proc.returncode == 0, proc.stderr
    out = root / "build" / "dev"
    created = sorted(p.name for p in (out / "kubernetes" / "_cluster").glob("namespace-*.yaml"))
    assert created == [f"namespace-{n}.yaml" for n in ("api", "argo", "payments", "tools", "web", "worker")]
    payments = yaml.safe_load((out / "kubernetes" / "_cluster" / "namespace-payments.yaml").read_text())
    assert payments["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert payments["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    api = yaml.safe_load((out / "kubernetes" / "_cluster" / "namespace-api.yaml").read_text())
    assert api["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    resources = json.loads((out / "resources.json").read_text())
    (scope,) = [r["inputs"]["accessScope"] for r in resources
                if r["type"] == "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
                and r["inputs"]["principalArn"] == DEVS]  # fmt: skip
    assert scope == {"type": "namespace", "namespaces": ["api", "kube-system", "payments"]}
    namespaces = [r["inputs"]["metadata"]["name"] for r in resources if r["type"] == "kubernetes:core/v1:Namespace"]
    assert "kube-system" not in namespaces and "payments" in namespaces
