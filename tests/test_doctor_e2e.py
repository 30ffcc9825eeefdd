"""`slipway doctor dev` end to end against moto's server on 127.0.0.1.

The account is seeded with the three first-day mistakes: a public subnet without
the ALB discovery tag, an app whose image tag was never pushed, and a caller (moto's
IAM user) that the dev stack does not map. The real command runs in a subprocess with
AWS_ENDPOINT_URL pointing at the server and must report each with its fix and exit 1.
"""

from __future__ import annotations

import json
import os
import socket

import boto3
import pytest
from moto.server import ThreadedMotoServer

from slipway.cli.render import ROOT

from tests.helpers import slipway_cli

CLUSTER = "slipway-dev"  # the dev stack's cluster


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint():
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _seed(endpoint: str) -> dict[str, str]:
    kw = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "testing",
          "aws_secret_access_key": "testing"}  # fmt: skip
    ec2, ecr = boto3.client("ec2", **kw), boto3.client("ecr", **kw)
    stack_tag = [{"Key": "slipway/stack", "Value": "dev"}]
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": stack_tag}])
    vpc_id = vpc["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    public_rt = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    subnets = {}
    for i, (tier, az, role) in enumerate([
        ("public", "us-east-1a", "kubernetes.io/role/elb"),
        ("public", "us-east-1b", None),  # the mistake: its discovery tag is gone
        ("private", "us-east-1a", "kubernetes.io/role/internal-elb"),
        ("private", "us-east-1b", "kubernetes.io/role/internal-elb"),
    ]):  # fmt: skip
        tags = [*stack_tag, {"Key": f"kubernetes.io/cluster/{CLUSTER}", "Value": "shared"}]
        if role:
            tags.append({"Key": role, "Value": "1"})
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.40.{i * 16}.0/20", AvailabilityZone=az,
                                   TagSpecifications=[{"ResourceType": "subnet", "Tags": tags}])  # fmt: skip
        subnet_id = subnet["Subnet"]["SubnetId"]
        subnets[f"{tier}-{az}"] = subnet_id
        if tier == "public":
            ec2.associate_route_table(RouteTableId=public_rt, SubnetId=subnet_id)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {}, "layers": []})  # fmt: skip
    for repo, tag in [("web", "1.4.2"), ("api", "2.6.9"), ("worker", "1.8.3")]:  # api 2.7.0 was never pushed
        ecr.create_repository(repositoryName=f"{CLUSTER}/{repo}")
        ecr.put_image(repositoryName=f"{CLUSTER}/{repo}", imageManifest=manifest, imageTag=tag)
    return subnets


def test_doctor_reports_each_seeded_mistake_with_its_fix(endpoint):
    subnets = _seed(endpoint)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1")  # fmt: skip
    proc = slipway_cli("doctor", "dev", "--json", env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["cluster"] == CLUSTER and report["ok"] is False
    assert report["verdict"].startswith("verdict: FAIL — ") and "check(s) failed" in report["verdict"]
    fails = {(f["check"], f["subject"]): f for f in report["findings"] if f["status"] == "fail"}

    # 1. the untagged public subnet ("couldn't auto-discover subnets" for internet-facing ALBs)
    subnet = next(f for (check, subject), f in fails.items() if subnets["public-us-east-1b"] in subject)
    assert "kubernetes.io/role/elb" in subnet["fix"]
    assert not any(subnets["public-us-east-1a"] in s for _, s in fails)  # the tagged one is fine

    # 2. api's tag 2.7.0 is not in ECR (ImagePullBackOff); web and worker are
    image = [f for (check, subject), f in fails.items() if "api" in subject and "2.7.0" in f["detail"] + f["subject"]]
    assert image and "docker push" in image[0]["fix"]
    assert not any("web" in s or "worker" in s for (c, s) in fails if "image" in c)

    # 3. moto's caller is the IAM user `moto`; dev maps roles only (created by platform-admins)
    (identity,) = [f for (check, _), f in fails.items() if check == "identity"]
    assert identity["subject"].endswith("::123456789012:user/moto")  # moto's STS says arn:aws:sts::…:user/moto
    assert "Unauthorized" in identity["detail"] and "slipway:access.principals" in identity["fix"]
