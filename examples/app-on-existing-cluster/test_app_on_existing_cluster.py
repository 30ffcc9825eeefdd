"""The app-on-existing-cluster example under slipway's mocks: no AWS, no cluster, no Pulumi CLI.

The stack config is given to `mocked()` as `pulumi config` would give it to the program
(the kubeconfig among the secret keys); `mocked()` runs the program as a preview and fails
on duplicate URNs and on unknown values.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from slipway.components.app import HttpGet, Probe, Probes
from slipway.components.validation import ArgsError
from slipway.testing import SECRET, Match, Template, mocked

PROJECT = "app-on-existing-cluster"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/5C3A9B1E0D7F4A2B8C6E1D0F9A8B7C6D"
PROVIDER_ARN = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders"
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n"  # the shape `aws eks update-kubeconfig` writes
CONFIG = {
    "aws:region": "us-east-1",
    f"{PROJECT}:clusterName": "prod",
    f"{PROJECT}:kubeconfig": KUBECONFIG,
    f"{PROJECT}:oidcProviderArn": PROVIDER_ARN,
    f"{PROJECT}:oidcIssuer": f"https://{ISSUER}",  # as `aws eks describe-cluster` shows it
    f"{PROJECT}:image": IMAGE,
    f"{PROJECT}:imageTag": "2.3.1",
    f"{PROJECT}:bucket": "acme-orders",
}
SECRET_KEYS = [f"{PROJECT}:kubeconfig"]


def load_program() -> ModuleType:
    """This folder's program.py, under a module name of its own (every example has a program.py)."""
    spec = importlib.util.spec_from_file_location(
        "app_on_existing_cluster_program", Path(__file__).with_name("program.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


program = load_program()


@pytest.fixture(scope="module")
def template() -> Template:
    with mocked(config=CONFIG, secret_keys=SECRET_KEYS, project=PROJECT) as m:
        m.build(program.build)
    return m.template


def manifest(template: Template, kind: str, name: str) -> dict:
    """The inputs of the one Kubernetes object of `kind` (its type token's tail) named `name`."""
    (found,) = [r for r in template if r.type.endswith(f":{kind}") and r.inputs["metadata"]["name"] == name]
    return found.inputs


def test_only_the_app_and_what_it_needs_no_cluster(template: Template):
    assert not [r.urn for r in template if r.type.startswith(("eks:", "aws:ec2", "aws:eks"))]
    assert sorted(r.type for r in template if r.custom and r.type.startswith("aws:")) == [
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
    ]
    for r in template:
        if r.type.startswith("kubernetes:"):
            template.has_options(r, provider="existing-cluster")  # every object goes to the cluster of the config


def test_the_kubeconfig_stays_secret(template: Template):
    provider = template.one("pulumi:providers:kubernetes", "existing-cluster")
    assert provider.inputs["kubeconfig"] == SECRET  # masked in state and previews
    assert provider.revealed["kubeconfig"] == KUBECONFIG  # what the provider itself gets


def test_a_kubeconfig_in_plain_text_is_refused_before_anything():
    with pytest.raises(ArgsError) as err, mocked(config=CONFIG, project=PROJECT) as m:  # no secret keys
        m.build(program.build)
    assert str(err.value) == (
        "1 input error in this stack's config:\n"
        "  - kubeconfig: (value hidden) is stored in plain text — re-set it with "
        f"`pulumi config set --secret kubeconfig < kubeconfig.yaml` ({PROJECT}:kubeconfig)"
    )
    assert m.records == []


def test_the_apps_manifests(template: Template):
    namespace = manifest(template, "Namespace", "orders")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"

    pod = manifest(template, "Deployment", "orders")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == f"{IMAGE}:2.3.1"
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert pod["serviceAccountName"] == "orders"  # the IRSA ServiceAccount below
    assert manifest(template, "ConfigMap", "orders-config")["data"] == {"ORDERS_BUCKET": "acme-orders"}

    service = manifest(template, "Service", "orders")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]

    ingress = manifest(template, "Ingress", "orders")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert annotations["alb.ingress.kubernetes.io/group.name"] == "prod-internal"  # <clusterName>-<scheme>
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/ready"
    (rule,) = ingress["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "orders", "port": {"number": 80}}
    assert ingress["spec"]["ingressClassName"] == "alb"


def test_the_service_accounts_role_trusts_only_it_on_that_cluster(template: Template):
    role = template.one("aws:iam/role:Role", "orders-irsa-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER_ARN},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {
                f"{ISSUER}:sub": "system:serviceaccount:orders:orders",
                f"{ISSUER}:aud": "sts.amazonaws.com",
            }
        },
    }
    assert role.inputs["tags"] == {"app": "orders", "managed-by": "pulumi"}
    template.has_resource_properties(
        "aws:iam/rolePolicy:RolePolicy",
        {
            "policy": Match.serialized_json(
                {
                    "Statement": Match.exact(
                        [
                            {"Sid": "ReadOrders", "Effect": "Allow", "Action": ["s3:GetObject"],
                             "Resource": ["arn:aws:s3:::acme-orders/*"]},
                            {"Sid": "ListOrders", "Effect": "Allow", "Action": ["s3:ListBucket"],
                             "Resource": ["arn:aws:s3:::acme-orders"]},
                        ]
                    )
                }
            )
        },
    )  # fmt: skip
    account = manifest(template, "ServiceAccount", "orders")
    assert account["metadata"]["namespace"] == "orders"
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role.state["arn"]


def test_a_probe_on_an_unknown_port_is_refused_before_anything():
    def build():
        settings = program.Settings.from_config()
        spec = program.orders_spec(settings)
        broken = dataclasses.replace(
            spec, probes=Probes(readiness=Probe(handler=HttpGet(path="/ready", port="metrics")))
        )
        program.deploy(settings, broken)

    with pytest.raises(ArgsError) as err, mocked(config=CONFIG, secret_keys=SECRET_KEYS, project=PROJECT) as m:
        m.build(build)
    assert str(err.value) == (
        "1 input error in App 'orders':\n"
        "  - spec.probes.readiness.handler.port: 'metrics' is not one of the app's ports — "
        "use a name or number from ports"
    )
    assert m.records == []  # not the provider, not the namespace: nothing
