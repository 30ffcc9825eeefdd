"""`slipway doctor` AWS checks against moto (and botocore Stubbers where moto has no answer).

Every check is tested both ways: a healthy account passes, and the broken one fails
with the subject, the cause and the fix a user needs.
"""

from __future__ import annotations

import datetime
import json

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from slipway.cli.doctor._aws import denied_action, stack_azs
from slipway.cli.doctor.aws_checks import AWS_CHECKS
from slipway.cli.doctor.image_checks import check_image_tags
from slipway.cli.doctor.lb_checks import LBC_CLUSTER_TAG, check_target_health
from slipway.cli.doctor.model import DoctorContext, Finding
from slipway.cli.doctor.offering_checks import check_instance_offerings
from slipway.cli.doctor.quota_checks import check_quotas
from slipway.cli.doctor.subnet_checks import check_subnet_tags, public_subnets
from slipway.components.network import discovery_tags, subnet_cidrs
from slipway.program.capacity import plan_cluster
from slipway.program.config import parse_config_values, usable_zones

REGION = "us-east-1"
STACK = "dev"
CLUSTER = f"slipway-{STACK}"
APP = {
    "image": {"repository": "api", "tag": "2.7.0"},
    "ports": [{"name": "http", "containerPort": 8000}],
    "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    "probes": {"readiness": {"httpGet": {"path": "/ready", "port": "http"}}},
}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0b4e8f5e-3c1a-4c57-9d55-0f3f5a8e1a11"
PUBLIC_INGRESS = {"enabled": True, "scheme": "internet-facing", "certificateArn": CERT}


# One botocore session for the module: it caches the service models it loads (a fresh one
# per test re-reads ~0.3 s of JSON). Clients, and so moto's state, are still per test.
_BOTOCORE = botocore.session.get_session()


@pytest.fixture
def session(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        # None of these checks reads AMIs; loading moto's catalogue of them costs ~0.25 s per test.
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.Session(botocore_session=_BOTOCORE, region_name=REGION)


def context(session, **values) -> DoctorContext:
    cfg = parse_config_values(values, region=REGION, stack=STACK)
    return DoctorContext(STACK, REGION, cfg, cfg.cluster_name or CLUSTER, session)


def deployed(ctx: DoctorContext, vpc_id: str) -> DoctorContext:
    """Pretend the EKS cluster exists (moto's DescribeCluster has no vpcId)."""
    ctx._cache["cluster"] = {"name": ctx.cluster_name, "resourcesVpcConfig": {"vpcId": vpc_id}}
    return ctx


def only(findings: list[Finding], status: str | None = None, subject: str | None = None) -> Finding:
    found = [f for f in findings if (status is None or f.status == status) and (subject in (None, f.subject))]
    assert len(found) == 1, [f.as_dict() for f in findings]
    return found[0]


def statuses(findings: list[Finding]) -> list[str]:
    return sorted(f.status for f in findings)


# ------------------------------------------------------------------ a network like components/network.py


def seed_network(session, azs=("us-east-1a", "us-east-1b"), stack=STACK, cluster=CLUSTER) -> dict:
    """VPC, IGW, public subnets routed to it, private subnets routed elsewhere, all with discovery tags."""
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "slipway/stack", "Value": stack}])
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    out = {"vpc": vpc, "public": {}, "private": {}}
    cidrs = subnet_cidrs("10.0.0.0/16", list(azs))
    for az in azs:
        for tier in ("public", "private"):
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidrs[tier][az], AvailabilityZone=az)["Subnet"]["SubnetId"]
            tags = {"Name": f"network-{tier}-{az}", **discovery_tags(cluster, tier)}
            ec2.create_tags(Resources=[subnet], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
            rt = public_rt if tier == "public" else ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            ec2.associate_route_table(RouteTableId=rt, SubnetId=subnet)
            out[tier][az] = subnet
    return out


# ------------------------------------------------------------------ instance offerings


def test_named_type_offered_in_every_az_passes(session):
    ctx = context(
        session,
        network={"availabilityZones": ["us-east-1a", "us-east-1b"]},
        nodePools={"general": {"instanceType": "t3.medium"}},
    )
    f = only(check_instance_offerings(ctx))
    assert (f.status, f.subject) == ("pass", "nodePools.general")
    assert f.detail == "t3.medium offered in us-east-1a, us-east-1b"


def test_named_type_missing_in_one_az_fails_naming_the_az(session):
    # moto, like us-east-1e in many accounts, offers no t3 in us-east-1e.
    ctx = context(
        session,
        network={"availabilityZones": ["us-east-1a", "us-east-1e"]},
        nodePools={"general": {"instanceType": "t3.medium"}},
    )
    f = only(check_instance_offerings(ctx), subject="nodePools.general")
    assert f.status == "fail"
    assert "t3.medium not in us-east-1e" in f.detail and "us-east-1a" not in f.detail.split(":")[0]
    # The key the user wrote, as `pulumi config` names it.
    assert "set slipway:nodePools.general.instanceType to a type offered" in f.fix
    assert "slipway:network.availabilityZones" in f.fix


def test_several_types_covering_each_other_warn_rather_than_fail(session):
    ctx = context(
        session,
        network={"availabilityZones": ["us-east-1a", "us-east-1e"]},
        nodePools={"general": {"instanceTypes": ["t3.medium", "p5.48xlarge"], "capacityType": "SPOT"}},
    )
    f = only(check_instance_offerings(ctx), subject="nodePools.general")
    assert f.status == "warn" and "t3.medium not in us-east-1e" in f.detail
    # The user wrote instanceTypes (a list), so the fix names that key, not instanceType.
    assert "set slipway:nodePools.general.instanceTypes to types offered in every AZ" in f.fix


def test_a_zone_eks_does_not_support_fails_naming_its_zone_id(session):
    # In moto's account, as in many real ones, us-east-1e is use1-az3: no EKS cluster subnets there.
    ctx = context(
        session,
        network={"availabilityZones": ["us-east-1a", "us-east-1e"]},
        nodePools={"general": {"instanceType": "m5.large"}},
    )
    findings = check_instance_offerings(ctx)
    f = only(findings, subject="us-east-1e")
    assert f.status == "fail" and "use1-az3" in f.detail and "UnsupportedAvailabilityZoneException" in f.detail
    assert f.fix.startswith("set slipway:network.availabilityZones to other zones") and "avoid use1-az3" in f.fix
    assert not [x for x in findings if x.subject == "us-east-1a"]
    # Zones EKS supports raise nothing.
    ctx = context(session, network={"availabilityZones": ["us-east-1a", "us-east-1b"]})
    assert [x.subject for x in check_instance_offerings(ctx)] == ["nodePools.general"]


def _zone(name: str, zone_id: str, zone_type: str = "availability-zone") -> dict[str, str]:
    """One zone as EC2's DescribeAvailabilityZones lists it."""
    return {"ZoneName": name, "ZoneId": zone_id, "ZoneType": zone_type, "State": "available"}


def test_stack_azs_leave_out_local_zones(session):
    # An opted-in Local Zone ends in a letter too, and sorts before us-west-2a.
    ctx = context(session, network={"azCount": 2})
    zones = [
        _zone("us-west-2-lax-1a", "usw2-lax1-az1", "local-zone"),
        _zone("us-west-2b", "usw2-az1"),
        _zone("us-west-2a", "usw2-az2"),
    ]
    with Stubber(ctx.client("ec2")) as stub:
        stub.add_response(
            "describe_availability_zones",
            {"AvailabilityZones": zones},
            {
                "Filters": [
                    {"Name": "zone-type", "Values": ["availability-zone"]},
                    {"Name": "state", "Values": ["available"]},
                ]
            },
        )
        assert stack_azs(ctx) == ["us-west-2a", "us-west-2b"]
        stub.assert_no_pending_responses()


def test_usable_zones_keep_order_and_leave_out_letters_past_f_and_zones_eks_refuses():
    zones = [
        ("us-east-1a", "use1-az6"),
        ("us-east-1b", "use1-az3"),  # EKS refuses use1-az3 for cluster subnets
        ("us-east-1c", "use1-az1"),
        ("us-east-1g", "use1-az7"),  # no AZ slot for g
        ("us-east-1d", "use1-az2"),
    ]
    assert usable_zones(zones) == ["us-east-1a", "us-east-1c", "us-east-1d"]
    assert usable_zones([]) == []


def test_stack_azs_skip_a_zone_eks_does_not_support(session):
    # As `pulumi up` does (get_availability_zones(exclude_zone_ids=...)): doctor must not check a zone never used.
    ctx = context(session, network={"azCount": 2})
    zones = [
        _zone("us-east-1a", "use1-az3"),
        _zone("us-east-1c", "use1-az2"),
        _zone("us-east-1b", "use1-az1"),
    ]
    with Stubber(ctx.client("ec2")) as stub:
        stub.add_response("describe_availability_zones", {"AvailabilityZones": zones})
        assert stack_azs(ctx) == ["us-east-1b", "us-east-1c"]
        stub.assert_no_pending_responses()


def test_auto_pool_checks_the_planned_type_in_the_first_available_azs(session):
    ctx = context(session, network={"azCount": 3})
    assert stack_azs(ctx) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    planned = plan_cluster(ctx.cfg, REGION, zones=stack_azs(ctx)).sizes(ctx.cfg)["general"][0]
    f = only(check_instance_offerings(ctx))
    assert f.status == "pass"
    assert f.detail == f"{', '.join(planned)} offered in us-east-1a, us-east-1b, us-east-1c"


def test_refused_offerings_call_is_a_warn_naming_the_action(session):
    ctx = context(
        session,
        network={"availabilityZones": ["us-east-1a", "us-east-1b"]},
        nodePools={"general": {"instanceType": "t3.medium"}},
    )
    with Stubber(ctx.client("ec2")) as stub:
        stub.add_response("describe_availability_zones", {"AvailabilityZones": []})
        stub.add_client_error("describe_instance_type_offerings", "UnauthorizedOperation", "not authorized")
        f = only(check_instance_offerings(ctx))
    assert (f.status, f.subject) == ("warn", "ec2:DescribeInstanceTypeOfferings")
    assert "allow ec2:DescribeInstanceTypeOfferings" in f.fix


def test_denied_action_prefers_the_action_aws_names():
    err = ClientError(
        {
            "Error": {
                "Code": "AccessDeniedException",
                "Message": "User: arn:aws:iam::1:user/x is not authorized to "
                "perform: ecr:DescribeImages on resource: arn:aws:ecr:us-east-1:1:repository/a",
            }
        },
        "DescribeImages",
    )
    assert denied_action(err) == "ecr:DescribeImages"
    assert denied_action(ClientError({"Error": {"Code": "AccessDenied"}}, "DescribeTargetHealth")) == (
        "elasticloadbalancing:DescribeTargetHealth"
    )
    assert denied_action(ClientError({"Error": {"Code": "Throttling"}}, "DescribeVpcs")) is None


# ------------------------------------------------------------------ subnet tags


def test_subnet_tags_skip_before_the_stack_exists(session):
    f = only(check_subnet_tags(context(session)))
    assert (f.status, f.detail) == ("skip", "stack not deployed yet")


def test_tagged_network_passes_and_covers_the_ingress_scheme(session):
    seed_network(session)
    findings = check_subnet_tags(context(session, apps={"api": {**APP, "ingress": PUBLIC_INGRESS}}))
    assert statuses(findings) == ["pass", "pass", "pass"], [f.as_dict() for f in findings]
    assert "2 tagged kubernetes.io/role/elb=1" in only(findings, subject="public subnets").detail
    assert "us-east-1a, us-east-1b" in only(findings, subject="internet-facing load balancers").detail


def test_untagged_public_subnet_fails_naming_subnet_tag_and_command(session):
    net = seed_network(session)
    bad = net["public"]["us-east-1b"]
    session.client("ec2").delete_tags(Resources=[bad], Tags=[{"Key": "kubernetes.io/role/elb"}])
    findings = check_subnet_tags(context(session, apps={"api": {**APP, "ingress": PUBLIC_INGRESS}}))
    f = only(findings, subject=bad)
    assert f.status == "fail"
    assert "has no kubernetes.io/role/elb tag" in f.detail and "network-public-us-east-1b" in f.detail
    assert f"aws ec2 create-tags --resources {bad} --tags Key=kubernetes.io/role/elb,Value=1" in f.fix
    assert "pulumi up --refresh" in f.fix
    # One AZ left for an ALB that needs two: the controller cannot place it.
    cover = only(findings, subject="internet-facing load balancers")
    assert cover.status == "fail" and "found 1 (us-east-1a)" in cover.detail


def test_public_is_decided_by_the_route_table_not_the_tags(session):
    net = seed_network(session)
    ec2 = session.client("ec2")
    # A private subnet moved to the public route table is public now, and lacks the elb tag.
    moved = net["private"]["us-east-1a"]
    public_rt = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [net["public"]["us-east-1a"]]}]
    )
    rt_id = public_rt["RouteTables"][0]["RouteTableId"]
    assoc = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [moved]}])
    assoc_id = next(
        a["RouteTableAssociationId"] for a in assoc["RouteTables"][0]["Associations"] if a.get("SubnetId") == moved
    )
    ec2.replace_route_table_association(AssociationId=assoc_id, RouteTableId=rt_id)
    f = only(check_subnet_tags(context(session)), subject=moved)
    # A missing role tag is drift from what slipway deployed: it fails even before an app asks for a public ALB.
    assert f.status == "fail" and f.detail.startswith("public subnet network-private-us-east-1a")
    assert "no public load balancer is asked for yet" in f.detail and "Key=kubernetes.io/role/elb,Value=1" in f.fix


def test_public_subnets_follow_explicit_associations_else_the_main_table():
    to_igw = [
        {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"},
        {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"},
    ]
    to_nat = [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1"}]
    tables = [
        {"Routes": to_igw, "Associations": [{"Main": True}, {"SubnetId": "subnet-pub"}]},
        {"Routes": to_nat, "Associations": [{"SubnetId": "subnet-priv"}]},
    ]
    # subnet-loose has no association of its own: it follows the main table, which goes to the IGW.
    assert public_subnets(tables, ["subnet-pub", "subnet-priv", "subnet-loose"]) == {"subnet-pub", "subnet-loose"}
    tables[0]["Associations"] = [{"SubnetId": "subnet-pub"}]
    tables[1]["Associations"].append({"Main": True})
    assert public_subnets(tables, ["subnet-pub", "subnet-priv", "subnet-loose"]) == {"subnet-pub"}


def test_internal_ingress_needs_tagged_private_subnets_in_two_azs(session):
    net = seed_network(session)
    ec2 = session.client("ec2")
    for subnet in net["private"].values():
        ec2.create_tags(Resources=[subnet], Tags=[{"Key": "kubernetes.io/role/internal-elb", "Value": "true"}])
    ctx = deployed(context(session, apps={"api": {**APP, "ingress": {"enabled": True}}}), net["vpc"])
    findings = check_subnet_tags(ctx)
    bad = [f for f in findings if f.subject in net["private"].values()]
    assert [f.status for f in bad] == ["fail", "fail"]
    assert all("accepts only 1 or an empty value" in f.detail for f in bad)
    # No subnet matches the role tag, so a current controller falls back to the route tables.
    cover = only(findings, subject="internal load balancers")
    assert cover.status == "pass" and "found by route table" in cover.detail
    # One correctly tagged subnet makes the tag the rule again: now only one AZ qualifies.
    ec2.create_tags(
        Resources=[net["private"]["us-east-1a"]], Tags=[{"Key": "kubernetes.io/role/internal-elb", "Value": "1"}]
    )
    cover = only(check_subnet_tags(ctx), subject="internal load balancers")
    assert cover.status == "fail" and "found 1 (us-east-1a)" in cover.detail


def test_subnet_tagged_only_for_another_cluster_is_skipped_by_the_controller(session):
    net = seed_network(session, cluster="someone-else")
    findings = check_subnet_tags(context(session, apps={"api": {**APP, "ingress": PUBLIC_INGRESS}}))
    f = only(findings, subject=net["public"]["us-east-1a"])
    assert f.status == "fail" and "kubernetes.io/cluster/someone-else" in f.detail
    assert "apps.api.ingress cannot place a load balancer in it" in f.detail
    assert f"Key=kubernetes.io/cluster/{CLUSTER},Value=shared" in f.fix
    # Without a load balancer asking, the controller's filters are only a warning.
    assert statuses(check_subnet_tags(context(session))) == ["warn"] * 4


def test_the_clusters_vpc_is_found_without_stack_tags(session):
    net = seed_network(session, stack="other")
    ctx = deployed(context(session), net["vpc"])
    findings = check_subnet_tags(ctx)
    assert statuses(findings) == ["pass", "pass"]


# ------------------------------------------------------------------ image tags

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {},
        "layers": [],
    }
)


def push(session, repo: str, *tags: str) -> str:
    ecr = session.client("ecr")
    uri = ecr.create_repository(repositoryName=repo)["repository"]["repositoryUri"]
    for tag in tags:
        ecr.put_image(repositoryName=repo, imageManifest=MANIFEST.replace("{}", json.dumps({"t": tag})), imageTag=tag)
    return uri


def test_pushed_tag_passes_and_missing_tag_fails_with_the_push_command(session):
    uri = push(session, f"{CLUSTER}/api", "2.7.0", "2.6.1")
    worker = {**APP, "image": {"repository": "api", "tag": "2.8.0"}}
    findings = check_image_tags(context(session, apps={"api": APP, "worker": worker}))
    ok = only(findings, subject="apps.api")
    assert ok.status == "pass" and ok.detail == f"{CLUSTER}/api:2.7.0 is in ECR"
    bad = only(findings, subject="apps.worker")
    assert bad.status == "fail" and "ImagePullBackOff ahead" in bad.detail and "2.7.0" in bad.detail
    assert f"docker push {uri}:2.8.0" in bad.fix
    assert f"--password-stdin {uri.split('/')[0]}" in bad.fix


def test_missing_repository_warns_before_deploy_and_fails_after(session):
    net = seed_network(session)
    before = only(check_image_tags(context(session, apps={"api": APP})))
    assert before.status == "warn" and "pulumi up` creates it" in before.fix and "api:2.7.0" in before.fix
    after = only(check_image_tags(deployed(context(session, apps={"api": APP}), net["vpc"])))
    assert after.status == "fail" and f"{CLUSTER}/api does not exist" in after.detail


def test_recent_tags_come_from_every_page_newest_first(session):
    # A repository with more images than one DescribeImages page: the newest may be on the last page.
    def image(tag: str, day: int) -> dict:
        return {"imageTags": [tag], "imagePushedAt": datetime.datetime(2025, 1, day, tzinfo=datetime.UTC)}

    repo = f"{CLUSTER}/api"
    ctx = context(session, apps={"api": APP})
    with Stubber(ctx.client("ecr")) as stub:
        stub.add_response(
            "describe_repositories",
            {"repositories": [{"repositoryUri": f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{repo}"}]},
            {"repositoryNames": [repo]},
        )
        stub.add_client_error(
            "describe_images",
            "ImageNotFoundException",
            "not found",
            expected_params={"repositoryName": repo, "imageIds": [{"imageTag": "2.7.0"}]},
        )
        tagged = {"repositoryName": repo, "filter": {"tagStatus": "TAGGED"}}
        stub.add_response(
            "describe_images",
            {"imageDetails": [image("2.5.0", 1), image("2.6.0", 2), image("2.6.1", 3)], "nextToken": "p2"},
            tagged,
        )
        stub.add_response(
            "describe_images", {"imageDetails": [image("2.6.2", 4), image("2.6.9", 9)]}, {**tagged, "nextToken": "p2"}
        )
        f = only(check_image_tags(ctx))
        stub.assert_no_pending_responses()
    assert f.status == "fail" and "(latest pushed: 2.6.9, 2.6.2, 2.6.1)" in f.detail


def test_image_tags_skip_without_apps(session):
    assert only(check_image_tags(context(session))).status == "skip"


# ------------------------------------------------------------------ target health


def alb(
    session, net: dict, cluster: str, name: str, target: str | None = "10.0.0.5", lb_type: str = "application"
) -> str:
    elb = session.client("elbv2")
    lb = elb.create_load_balancer(
        Name=name,
        Subnets=list(net["private"].values()),
        Scheme="internal",
        Type=lb_type,
        Tags=[{"Key": LBC_CLUSTER_TAG, "Value": cluster}],
    )
    arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    protocol = "HTTP" if lb_type == "application" else "TCP"
    health = {"HealthCheckPath": "/ready"} if lb_type == "application" else {}
    tg = elb.create_target_group(
        Name=f"{name}-tg", Protocol=protocol, Port=8000, VpcId=net["vpc"], TargetType="ip", **health
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=arn, Protocol=protocol, Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}]
    )
    if target:
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": target, "Port": 8000}])
    return arn


def test_no_load_balancers_skip(session):
    f = only(check_target_health(context(session)))
    assert f.status == "skip"


def test_ingress_without_a_load_balancer_after_deploy_warns(session):
    net = seed_network(session)
    ctx = deployed(context(session, apps={"api": {**APP, "ingress": {"enabled": True}}}), net["vpc"])
    f = only(check_target_health(ctx))
    assert f.status == "warn" and "apps.api.ingress" in f.detail and "kubectl describe ingress" in f.fix


def test_healthy_targets_of_this_clusters_albs_pass_and_others_are_ignored(session):
    net = seed_network(session)
    alb(session, net, CLUSTER, "k8s-dev-internal")
    alb(session, net, "another-cluster", "k8s-other", target=None)  # would fail if it were looked at
    f = only(check_target_health(context(session)))
    assert f.status == "pass" and f.subject.startswith("k8s-dev-internal/") and "1 of 1 targets healthy" in f.detail


def test_empty_target_group_fails(session):
    net = seed_network(session)
    alb(session, net, CLUSTER, "k8s-dev-internal", target=None)
    f = only(check_target_health(context(session)))
    assert f.status == "fail" and "503" in f.detail


def test_empty_target_group_of_an_nlb_says_connections_fail_not_503(session):
    net = seed_network(session)
    alb(session, net, CLUSTER, "k8s-dev-nlb", target=None, lb_type="network")
    f = only(check_target_health(context(session)))
    assert f.status == "fail" and "refuses or resets connections" in f.detail and "503" not in f.detail


def stub_target_health(stub: Stubber, targets: list[dict], lb_type: str = "application") -> None:
    """One load balancer of this cluster, one target group, and `targets` behind it."""
    lb_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/k8s-dev/1"
    tg_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-api/2"
    stub.add_response(
        "describe_load_balancers",
        {"LoadBalancers": [{"LoadBalancerArn": lb_arn, "LoadBalancerName": "k8s-dev", "Type": lb_type}]},
        {},
    )
    stub.add_response(
        "describe_tags",
        {"TagDescriptions": [{"ResourceArn": lb_arn, "Tags": [{"Key": LBC_CLUSTER_TAG, "Value": CLUSTER}]}]},
        {"ResourceArns": [lb_arn]},
    )
    stub.add_response(
        "describe_target_groups",
        {
            "TargetGroups": [
                {
                    "TargetGroupArn": tg_arn,
                    "TargetGroupName": "k8s-api",
                    "HealthCheckProtocol": "HTTP",
                    "HealthCheckPath": "/ready",
                    "HealthCheckPort": "traffic-port",
                }
            ]
        },
        {"LoadBalancerArn": lb_arn},
    )
    stub.add_response(
        "describe_tags",
        {
            "TagDescriptions": [
                {"ResourceArn": tg_arn, "Tags": [{"Key": "ingress.k8s.aws/resource", "Value": "api/api-api:80"}]}
            ]
        },
        {"ResourceArns": [tg_arn]},
    )
    stub.add_response("describe_target_health", {"TargetHealthDescriptions": targets}, {"TargetGroupArn": tg_arn})


def target(ip: str, state: str, reason: str = "", description: str = "") -> dict:
    """One target of DescribeTargetHealth (port 8000), with its state and why."""
    health = {"State": state, **({"Reason": reason, "Description": description} if reason else {})}
    return {"Target": {"Id": ip, "Port": 8000}, "TargetHealth": health}


def target_health(session, targets: list[dict]) -> list[Finding]:
    """check_target_health on one stubbed ALB whose one target group reports `targets`."""
    ctx = context(session)
    with Stubber(ctx.client("elbv2")) as stub:
        stub_target_health(stub, targets)
        findings = check_target_health(ctx)
        stub.assert_no_pending_responses()
    return findings


def test_draining_and_unknown_target_states_warn(session):
    findings = target_health(
        session,
        [
            target("10.0.3.7", "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"),
            target("10.0.3.8", "something-new"),
            target("10.0.40.9", "healthy"),
        ],
    )
    warns = sorted((f for f in findings if f.status == "warn"), key=lambda f: f.detail)
    assert [f.detail.split(" (")[0] for f in warns] == ["10.0.3.7:8000 is draining", "10.0.3.8:8000 is something-new"]
    assert "Target.DeregistrationInProgress" in warns[0].detail and "kubectl get pods" in warns[0].fix
    assert "1 of 3 targets healthy" in only(findings, status="pass").detail


def test_unhealthy_target_fails_with_reason_and_fix(session):
    # moto reports every registered target healthy: the unhealthy answer is stubbed.
    findings = target_health(
        session,
        [
            target(
                "10.0.3.7", "unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [404]"
            ),
            target("10.0.40.9", "healthy"),
        ],
    )
    bad = only(findings, status="fail")
    assert bad.subject == "k8s-dev/k8s-api (api/api-api:80)"
    assert "10.0.3.7:8000 is unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [404])" in (
        bad.detail
    )
    assert "HTTP /ready on port traffic-port" in bad.detail and "readiness probe path" in bad.fix
    assert "1 of 2 targets healthy" in only(findings, status="pass").detail


def test_refused_target_health_is_a_warn(session):
    ctx = context(session)
    with Stubber(ctx.client("elbv2")) as stub:
        stub.add_client_error(
            "describe_load_balancers",
            "AccessDenied",
            "User x is not authorized to perform: elasticloadbalancing:DescribeLoadBalancers",
        )
        f = only(check_target_health(ctx))
    assert (f.status, f.subject) == ("warn", "elasticloadbalancing:DescribeLoadBalancers")


# ------------------------------------------------------------------ quotas


def allocate(session, n: int, stack: str | None = None) -> None:
    ec2 = session.client("ec2")
    for _ in range(n):
        alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
        if stack:
            ec2.create_tags(Resources=[alloc], Tags=[{"Key": "slipway/stack", "Value": stack}])


def test_quotas_pass_with_room_and_say_when_the_default_was_assumed(session):
    findings = check_quotas(context(session))
    eips, vpcs = only(findings, subject="Elastic IPs"), only(findings, subject="VPCs")
    assert eips.status == "pass" and ": 1 of 5" in eips.detail  # one NAT gateway (natStrategy single)
    # moto has no EC2 quota (NoSuchResourceException) and no GetAWSDefaultServiceQuota.
    assert "quota ec2/L-0263D0A3 never adjusted, and its default not readable" in eips.detail
    assert "assumed the default 5" in eips.detail
    # moto's default VPC plus the stack's; the VPC quota comes from moto's Service Quotas.
    assert vpcs.status == "pass" and ": 2 of 5" in vpcs.detail and "assumed" not in vpcs.detail


def test_eips_within_one_of_the_quota_warn(session):
    allocate(session, 3)
    f = only(check_quotas(context(session)), subject="Elastic IPs")
    assert f.status == "warn" and ": 4 of 5" in f.detail and "--quota-code L-0263D0A3" in f.fix


def test_per_az_nat_over_the_eip_quota_fails(session):
    allocate(session, 3)
    f = only(check_quotas(context(session, network={"azCount": 3, "natStrategy": "per-az"})), subject="Elastic IPs")
    assert f.status == "fail" and ": 6 of 5" in f.detail and "3 NAT gateway(s)" in f.detail
    assert "natStrategy single" in f.fix


def test_a_deployed_stacks_own_addresses_are_not_counted_twice(session):
    allocate(session, 1, stack=STACK)
    allocate(session, 2)
    f = only(check_quotas(context(session)), subject="Elastic IPs")
    assert ": 3 of 5" in f.detail and f.status == "pass"


def test_vpcs_over_the_quota_fail_and_a_deployed_stack_is_not_counted_twice(session):
    ec2 = session.client("ec2")
    for i in range(4):
        ec2.create_vpc(CidrBlock=f"10.{i + 1}.0.0/16")
    f = only(check_quotas(context(session)), subject="VPCs")
    assert f.status == "fail" and ": 6 of 5" in f.detail and "--quota-code L-F678F1CE" in f.fix
    ec2.create_tags(
        Resources=[ec2.describe_vpcs()["Vpcs"][-1]["VpcId"]], Tags=[{"Key": "slipway/stack", "Value": STACK}]
    )
    f = only(check_quotas(context(session)), subject="VPCs")
    assert f.status == "warn" and ": 5 of 5" in f.detail


def test_an_applied_quota_is_used_and_a_refused_one_is_named(session):
    allocate(session, 3)
    ctx = context(session, network={"azCount": 3, "natStrategy": "per-az"})
    with Stubber(ctx.client("service-quotas")) as stub:
        stub.add_response(
            "get_service_quota", {"Quota": {"Value": 20.0}}, {"ServiceCode": "ec2", "QuotaCode": "L-0263D0A3"}
        )
        stub.add_client_error(
            "get_service_quota",
            "AccessDeniedException",
            "denied",
            expected_params={"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"},
        )
        findings = check_quotas(ctx)
        stub.assert_no_pending_responses()
    eips, vpcs = only(findings, subject="Elastic IPs"), only(findings, subject="VPCs")
    assert eips.status == "pass" and ": 6 of 20" in eips.detail
    assert "servicequotas:GetServiceQuota; assumed the default 5" in vpcs.detail


def test_a_never_adjusted_quota_is_read_from_aws_defaults(session):
    allocate(session, 3)
    ctx = context(session)
    eip, vpc = {"ServiceCode": "ec2", "QuotaCode": "L-0263D0A3"}, {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"}
    with Stubber(ctx.client("service-quotas")) as stub:
        stub.add_client_error("get_service_quota", "NoSuchResourceException", "no applied quota", expected_params=eip)
        stub.add_response("get_aws_default_service_quota", {"Quota": {"Value": 5.0}}, eip)
        stub.add_client_error("get_service_quota", "NoSuchResourceException", "no applied quota", expected_params=vpc)
        stub.add_client_error("get_aws_default_service_quota", "ServiceException", "down", expected_params=vpc)
        findings = check_quotas(ctx)
        stub.assert_no_pending_responses()
    eips, vpcs = only(findings, subject="Elastic IPs"), only(findings, subject="VPCs")
    assert eips.status == "warn" and ": 4 of 5 (default quota 5: never adjusted" in eips.detail
    assert "assumed" not in eips.detail
    assert "its default not readable: ServiceException; assumed the default 5" in vpcs.detail


# ------------------------------------------------------------------ all together


def test_every_check_runs_on_an_empty_account(session):
    ctx = context(session, apps={"api": APP})
    assert [c.__name__ for c in AWS_CHECKS] == [
        "check_instance_offerings",
        "check_subnet_tags",
        "check_image_tags",
        "check_target_health",
        "check_quotas",
    ]
    for check in AWS_CHECKS:
        findings = check(ctx)
        assert findings and all(isinstance(f, Finding) for f in findings), check.__name__
