"""The two-clusters-one-vpc example under slipway's mocks: no AWS, no Pulumi CLI.

`mocked()` runs `program.build()` as a preview and, on leaving, fails if two resources
share a URN (the engine refuses that; two clusters named alike would) or if an unknown
value reached a resource (a check that silently checked nothing).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from slipway.testing import Match, Recorded, Template, mocked, require_known

PROJECT = "two-clusters-one-vpc"
BASE = {"aws:region": "us-east-1", f"{PROJECT}:apiAccessCidrs": '["203.0.113.10/32"]'}
CONFIG = {**BASE, f"{PROJECT}:webTag": "1.0.0"}
RELEASE = "kubernetes:helm.sh/v3:Release"


def load_program() -> ModuleType:
    """This folder's program.py, under a module name of its own (every example has a program.py)."""
    spec = importlib.util.spec_from_file_location(
        "two_clusters_one_vpc_program", Path(__file__).with_name("program.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


program = load_program()


def run(config: dict[str, str]) -> Template:
    """Everything `pulumi up` would register with this config, as a Template."""
    with mocked(config=config, project=PROJECT) as m:

        def build():
            platform = program.build()
            # What a user reads after `pulumi up` must be values, not unknowns the mocks never answered.
            return require_known(
                platform.network.vpc_id,
                *(c.kubeconfig for c in platform.clusters.values()),
                *(lbc.role_arn for lbc in platform.controllers.values()),
            )

        m.build(build)
    return m.template


@pytest.fixture(scope="module")
def template() -> Template:
    return run(CONFIG)


def release(template: Template, cluster: str) -> Recorded:
    return template.one(RELEASE, f"{cluster}-lbc-release")


def test_two_clusters_one_vpc(template: Template):
    template.resource_count_is("aws:ec2/vpc:Vpc", 1)
    template.resource_count_is("eks:index:Cluster", 2)
    for cluster in ("blue", "green"):
        template.has_resource_properties("eks:index:Cluster", {"name": cluster, "version": "1.34"})
        template.has_resource_properties("aws:kms/alias:Alias", {"name": f"alias/{cluster}-secrets"})
    # Every component twice, each child under its own name: no URN is shared (mocked() checks).
    template.resource_count_is("slipway:lbc:LoadBalancerController", 2)
    template.resource_count_is("eks:index:ManagedNodeGroup", 2)


def test_every_subnet_is_tagged_for_both_clusters(template: Template):
    subnets = template.find("aws:ec2/subnet:Subnet")
    assert len(subnets) == 4  # public and private, in two AZs
    for subnet in subnets:
        tier = "private" if "-private-" in subnet.name else "public"
        role = {"private": "kubernetes.io/role/internal-elb", "public": "kubernetes.io/role/elb"}[tier]
        tags = subnet.inputs["tags"]
        assert tags["kubernetes.io/cluster/blue"] == "shared", subnet.urn
        assert tags["kubernetes.io/cluster/green"] == "shared", subnet.urn
        assert tags[role] == "1", subnet.urn


def test_node_groups_are_in_the_shared_private_subnets(template: Template):
    private = sorted(s.id for s in template.find("aws:ec2/subnet:Subnet") if "-private-" in s.name)
    for cluster in ("blue", "green"):
        group = template.one("eks:index:ManagedNodeGroup", f"{cluster}-general")
        assert sorted(group.inputs["subnetIds"]) == private, group.urn
        template.has_resource_properties(
            "eks:index:Cluster", {"name": cluster, "privateSubnetIds": Match.exact(private)}
        )


def test_each_controller_serves_its_own_cluster(template: Template):
    for cluster in ("blue", "green"):
        lbc = release(template, cluster)
        assert lbc.inputs["values"]["clusterName"] == cluster, lbc.urn
        template.has_options(lbc, provider=f"{cluster}-k8s")  # installed into that cluster


def test_each_controller_role_trusts_only_its_clusters_service_account(template: Template):
    for cluster in ("blue", "green"):
        eks = template.one("eks:index:Cluster", f"{cluster}-eks")
        issuer, provider_arn = eks.state["oidcIssuer"], eks.state["oidcProviderArn"]
        template.has_resource_properties(
            "aws:iam/role:Role",
            {
                "assumeRolePolicy": Match.serialized_json(
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Federated": provider_arn},
                                "Action": "sts:AssumeRoleWithWebIdentity",
                                "Condition": {
                                    "StringEquals": Match.exact(
                                        {
                                            f"{issuer}:sub": "system:serviceaccount:kube-system:"
                                            "aws-load-balancer-controller",
                                            f"{issuer}:aud": "sts.amazonaws.com",
                                        }
                                    )
                                },
                            }
                        ]
                    }
                )
            },
        )
        role = template.one("aws:iam/role:Role", f"{cluster}-lbc-irsa-role")
        assert issuer in role.inputs["assumeRolePolicy"], role.urn


def test_the_apps_ingress_waits_for_its_clusters_controller(template: Template):
    ingress = template.one("kubernetes:networking.k8s.io/v1:Ingress", "web-ingress")
    template.has_options(ingress, provider="blue-k8s")
    template.depends_on(ingress, release(template, "blue"), direct=True)
    # ...and not for green's: that controller never sees this Ingress.
    assert release(template, "green").urn not in template.ancestors(ingress)
    annotations = ingress.inputs["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert annotations["alb.ingress.kubernetes.io/group.name"] == "blue-internal"


def test_the_app_runs_the_registrys_image(template: Template):
    repository = template.one("aws:ecr/repository:Repository", "registry-web")
    assert repository.inputs["name"] == "two-clusters-one-vpc/web"
    deployment = template.one("kubernetes:apps/v1:Deployment", "web-deployment")
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{repository.state['repositoryUrl']}:1.0.0"
    template.has_options(deployment, provider="blue-k8s")


def test_without_a_tag_there_is_no_app_yet():
    """The first `pulumi up` (no webTag): the repository exists, nothing runs an image not pushed yet."""
    first = run(BASE)
    first.resource_count_is("aws:ecr/repository:Repository", 1)
    first.resource_count_is("slipway:app:App", 0)
    first.resource_count_is(RELEASE, 2)


def test_a_forgotten_api_allowlist_is_refused_not_silently_private():
    """Without apiAccessCidrs the endpoints would be private, and `pulumi up` from outside
    the VPC would hang on the first Helm release: the program says so instead."""
    with pytest.raises(Exception, match="apiAccessCidrs: not set"):
        run({"aws:region": "us-east-1"})
