"""Realistic Pulumi mocks: the one module the offline render and the tests share.

The mock monitor calls `new_resource` for every registration and `call` for every
invoke. We answer as AWS and the providers would for account 123456789012 in the
stack's region — ids in AWS's formats, ARNs, the EKS endpoint, OIDC issuer and a
kubeconfig — so that values derived from outputs (trust policies, ServiceAccount
annotations, Helm values) look in the render as they will in a real deployment.

pulumi-eks's components (`eks:index:Cluster`, `eks:index:ManagedNodeGroup`) are
remote: under mocks the SDK registers them as one resource and shows only their
inputs (pulumi/pulumi#15731), so their outputs are produced here from those inputs.

Everything is derived from (type, name, inputs) by hashing: two runs give the same
ids, which keeps the render byte-identical.

`SlipwayMocks` works with plain `pulumi.runtime.set_mocks(SlipwayMocks())`: creating one
gives the SDK's MockMonitor the `Call` it lacks (pulumi-eks's `Cluster.get_kubeconfig`) and
records every registration on it (`slipway.testing.shim`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any, ClassVar, cast

import pulumi

from slipway.components.network import EKS_UNSUPPORTED_ZONE_IDS
from slipway.testing import shim

ACCOUNT_ID = "123456789012"

# The mocked account never lists the zone IDs EKS refuses (the library's one definition).

# Real AZ names per region (the first ones are what `get_availability_zones` lists first).
REGION_AZS: dict[str, list[str]] = {
    "us-east-1": ["a", "b", "c", "d", "e", "f"],
    "us-east-2": ["a", "b", "c"],
    "us-west-1": ["a", "c"],
    "us-west-2": ["a", "b", "c", "d"],
    "eu-west-1": ["a", "b", "c"],
    "eu-central-1": ["a", "b", "c"],
    "ap-northeast-1": ["a", "c", "d"],
}


def _hex(*parts: Any, n: int = 17) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:n]


def _uuid(kind: str, h: str) -> str:
    """A UUID-shaped id (8-4-4-4-12 hex digits) hashed from `kind` and `h`."""
    return "-".join(
        [
            _hex(kind, h, n=8),
            _hex(f"{kind}1", h, n=4),
            _hex(f"{kind}2", h, n=4),
            _hex(f"{kind}3", h, n=4),
            _hex(f"{kind}4", h, n=12),
        ]
    )


def availability_zones(region: str) -> list[str]:
    """The AZ names a fresh account sees in `region`."""
    return [f"{region}{s}" for s in REGION_AZS.get(region, ["a", "b", "c"])]


def eks_endpoint(cluster_name: str, region: str) -> str:
    """The cluster's API server URL, shaped as EKS's (`https://<32 hex>.gr7.<region>.eks.amazonaws.com`)."""
    return f"https://{_hex('endpoint', cluster_name, n=32).upper()}.gr7.{region}.eks.amazonaws.com"


def oidc_issuer(cluster_name: str, region: str) -> str:
    """The issuer host/path, without https:// (as pulumi-eks's `oidcIssuer`)."""
    return f"oidc.eks.{region}.amazonaws.com/id/{_hex('oidc', cluster_name, n=32).upper()}"


def kubeconfig(
    cluster_name: str, region: str, endpoint: str, creds: dict[str, Any] | None, include_profile: bool
) -> dict[str, Any]:
    """The kubeconfig pulumi-eks generates (nodejs/eks/cluster/cluster.ts generateKubeconfig).

    `aws --region <r> eks get-token --cluster-name <n> --output json [--role <arn>]
    [--profile <p>]`; the Cluster's `kubeconfig` output leaves the profile out,
    `Cluster.getKubeconfig()` puts it in.
    """
    args = ["--region", region, "eks", "get-token", "--cluster-name", cluster_name, "--output", "json"]
    creds = creds or {}
    if creds.get("roleArn"):
        args += ["--role", creds["roleArn"]]
    if include_profile and creds.get("profileName"):
        args += ["--profile", creds["profileName"]]
    ca = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1PQ0stQ0EtRk9SLVJFTkRFUi1PTkxZCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
    return {
        "apiVersion": "v1",
        "clusters": [{"cluster": {"server": endpoint, "certificate-authority-data": ca}, "name": "kubernetes"}],
        "contexts": [{"context": {"cluster": "kubernetes", "user": "aws"}, "name": "aws"}],
        "current-context": "aws",
        "kind": "Config",
        "users": [
            {
                "name": "aws",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": args,
                        "env": [
                            {
                                "name": "KUBERNETES_EXEC_INFO",
                                "value": '{"apiVersion": "client.authentication.k8s.io/v1beta1"}',
                            }
                        ],
                    }
                },
            }
        ],
    }


def zone_id(region: str, letter_index: int) -> str:
    """AZ id as AWS writes it: us-east-1 → use1-az1, ap-southeast-2 → apse2-az1.

    The mocked account sees no zone EKS refuses (use1-az3 and the like are skipped:
    us-east-1c is use1-az4), as `get_availability_zones(exclude_zone_ids=...)` lists them.
    """
    geo, direction, number = region.split("-")
    short = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "northeast": "ne",
             "northwest": "nw", "southeast": "se", "southwest": "sw"}.get(direction, direction[:2])  # fmt: skip
    ids = (f"{geo}{short}{number}-az{n}" for n in itertools.count(1))
    return next(itertools.islice((i for i in ids if i not in EKS_UNSUPPORTED_ZONE_IDS), letter_index, None))


class SlipwayMocks(pulumi.runtime.Mocks):
    """Answers registrations and invokes as AWS would for one region.

    Use it with plain `pulumi.runtime.set_mocks(SlipwayMocks())` or through
    `slipway.testing.mocked()` (which also runs the program as a preview and fails on
    unknown values).
    """

    record_registrations: ClassVar[bool] = True
    """Under the SDK's MockMonitor, record every registration (see `slipway.testing.shim`)."""

    def __init__(self, region: str = "us-east-1", account_id: str = ACCOUNT_ID):
        shim.install()
        self.region = region
        self.account = account_id

    # ------------------------------------------------------------------ helpers
    def _arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account}:{resource}"

    @staticmethod
    def _physical_name(args: pulumi.runtime.MockResourceArgs) -> str:
        """The name AWS will have: the explicit `name` input, else Pulumi's auto-name."""
        inputs = cast(dict[str, Any], args.inputs)  # pyright: ignore[reportUnknownMemberType] - bare dict in the SDK
        given = inputs.get("name")
        if isinstance(given, str) and given:
            return given
        prefix = inputs.get("namePrefix")
        if isinstance(prefix, str) and prefix:
            return prefix + _hex("auto", args.typ, args.name, n=26)
        return f"{args.name}-{_hex('auto', args.typ, args.name, n=7)}"

    # ------------------------------------------------------------------ resources
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:  # noqa: C901
        """The id and outputs AWS or the provider would give this resource (a table of types)."""
        received = cast(dict[str, Any], args.inputs)  # pyright: ignore[reportUnknownMemberType] - bare dict in the SDK
        t, name, inputs = args.typ, args.name, dict(received)
        h = _hex(t, name)
        out: dict[str, Any] = dict(inputs)
        rid = f"{name}-id"

        if t.startswith("pulumi:providers:"):
            return rid, out
        if t == "aws:ec2/vpc:Vpc":
            rid = f"vpc-{h}"
            out.update(
                arn=self._arn("ec2", f"vpc/{rid}"),
                defaultSecurityGroupId=f"sg-{_hex('dsg', h)}",
                mainRouteTableId=f"rtb-{_hex('main', h)}",
                ownerId=self.account,
            )
        elif t == "aws:ec2/subnet:Subnet":
            rid = f"subnet-{h}"
            out.update(arn=self._arn("ec2", f"subnet/{rid}"), ownerId=self.account)
        elif t == "aws:ec2/internetGateway:InternetGateway":
            rid = f"igw-{h}"
            out.update(arn=self._arn("ec2", f"internet-gateway/{rid}"))
        elif t == "aws:ec2/eip:Eip":
            rid = f"eipalloc-{h}"
            octets = bytes.fromhex(_hex("ip", h, n=6))
            out.update(allocationId=rid, publicIp=f"3.{octets[0]}.{octets[1]}.{max(octets[2], 1)}")
        elif t == "aws:ec2/natGateway:NatGateway":
            rid = f"nat-{h}"
        elif t == "aws:ec2/routeTable:RouteTable":
            rid = f"rtb-{h}"
            out.update(arn=self._arn("ec2", f"route-table/{rid}"))
        elif t == "aws:ec2/routeTableAssociation:RouteTableAssociation":
            rid = f"rtbassoc-{h}"
        elif t == "aws:ec2/route:Route":
            rid = f"r-{inputs.get('routeTableId', 'rtb')}{_hex('route', h, n=9)}"
        elif t == "aws:ec2/vpcEndpoint:VpcEndpoint":
            rid = f"vpce-{h}"
            out.update(arn=self._arn("ec2", f"vpc-endpoint/{rid}"))
        elif t == "aws:ec2/securityGroup:SecurityGroup":
            rid = f"sg-{h}"
            out.update(arn=self._arn("ec2", f"security-group/{rid}"), name=self._physical_name(args))
        elif t == "aws:ec2/launchTemplate:LaunchTemplate":
            rid = f"lt-{h}"
            out.update(
                arn=self._arn("ec2", f"launch-template/{rid}"),
                latestVersion=1,
                defaultVersion=1,
                name=self._physical_name(args),
            )
        elif t == "aws:kms/key:Key":
            rid = _uuid("k", h)
            out.update(arn=self._arn("kms", f"key/{rid}"), keyId=rid)
        elif t == "aws:kms/alias:Alias":
            rid = inputs.get("name", f"alias/{name}")
            out.update(arn=self._arn("kms", rid), targetKeyArn=inputs.get("targetKeyId"))
        elif t == "aws:iam/role:Role":
            rid = self._physical_name(args)
            path = inputs.get("path", "/")
            out.update(
                name=rid,
                arn=f"arn:aws:iam::{self.account}:role{path}{rid}",
                uniqueId=f"AROA{_hex('uid', h, n=17).upper()}",
            )
        elif t == "aws:iam/policy:Policy":
            pname = self._physical_name(args)
            rid = f"arn:aws:iam::{self.account}:policy{inputs.get('path', '/')}{pname}"
            out.update(name=pname, arn=rid, policyId=f"ANPA{_hex('pid', h, n=17).upper()}")
        elif t in ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/rolePolicy:RolePolicy"):
            rid = f"{inputs.get('role', name)}-{_hex('att', h, n=20)}"
        elif t == "aws:ecr/repository:Repository":
            repo = self._physical_name(args)
            rid = repo
            out.update(name=repo, arn=self._arn("ecr", f"repository/{repo}"), registryId=self.account,
                       repositoryUrl=f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/{repo}")  # fmt: skip
        elif t == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or f"{name}-{_hex('bucket', h, n=12)}"
            rid = bucket
            out.update(bucket=bucket, arn=f"arn:aws:s3:::{bucket}", region=self.region,
                       bucketRegionalDomainName=f"{bucket}.s3.{self.region}.amazonaws.com")  # fmt: skip
        elif t == "aws:eks/accessEntry:AccessEntry":
            cluster, principal = inputs.get("clusterName"), inputs.get("principalArn")
            rid = f"{cluster}:{principal}"
            out.update(
                accessEntryArn=self._arn(
                    "eks",
                    f"access-entry/{cluster}/{'role' if ':role/' in str(principal) else 'user'}/"
                    f"{self.account}/{str(principal).rsplit('/', 1)[-1]}/{_hex('ae', h, n=36)}",
                ),
                kubernetesGroups=inputs.get("kubernetesGroups", []),
                type=inputs.get("type", "STANDARD"),
                userName=inputs.get("userName") or str(principal),
            )
        elif t == "aws:eks/accessPolicyAssociation:AccessPolicyAssociation":
            rid = f"{inputs.get('clusterName')}#{inputs.get('principalArn')}#{inputs.get('policyArn')}"
        elif t == "aws:sqs/queue:Queue":
            queue = self._physical_name(args)
            rid = f"https://sqs.{self.region}.amazonaws.com/{self.account}/{queue}"
            out.update(name=queue, arn=self._arn("sqs", queue), url=rid)
        elif t == "aws:cloudwatch/eventRule:EventRule":
            rule = self._physical_name(args)
            rid = rule
            out.update(name=rule, arn=self._arn("events", f"rule/{rule}"))
        elif t == "aws:ec2/tag:Tag":
            rid = f"{inputs.get('resourceId')},{inputs.get('key')}"
        elif t == "eks:index:Cluster":
            out.update(self._eks_cluster(name, inputs))
            rid = f"{name}-component"
        elif t.startswith("kubernetes:"):
            meta = dict(out.get("metadata") or {})
            meta.setdefault("name", self._physical_name(args) if t != "kubernetes:helm.sh/v3:Release" else name)
            meta["uid"] = _uuid("u", h)
            out["metadata"] = meta
            ns = meta.get("namespace")
            rid = f"{ns}/{meta['name']}" if ns else meta["name"]
            if t == "kubernetes:helm.sh/v3:Release":
                out.update(
                    name=inputs.get("name", name),
                    status={
                        "status": "deployed",
                        "version": 1,
                        "namespace": inputs.get("namespace", "default"),
                        "chart": inputs.get("chart"),
                        "appVersion": inputs.get("version"),
                    },
                )
                rid = f"{inputs.get('namespace', 'default')}/{inputs.get('name', name)}"
        elif t.startswith("aws:") and "arn" not in out:
            out["arn"] = self._arn(t.split(":")[1].split("/")[0], f"{name}/{h}")
        return rid, out

    @staticmethod
    def _eks_cluster_name(name: str, inputs: dict[str, Any]) -> str:
        """The EKS cluster's name: the `name` input, else pulumi-eks's auto-name for component `name`."""
        return str(inputs.get("name") or f"{name}-eksCluster-{_hex('auto', name, n=7)}")

    def _eks_cluster(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        cluster_name = self._eks_cluster_name(name, inputs)
        endpoint = eks_endpoint(cluster_name, self.region)
        issuer = oidc_issuer(cluster_name, self.region)
        kc = kubeconfig(cluster_name, self.region, endpoint, inputs.get("providerCredentialOpts"), False)
        return {
            "kubeconfig": kc,
            "kubeconfigJson": json.dumps(kc),
            "oidcIssuer": issuer,
            "oidcProviderUrl": f"https://{issuer}",
            "oidcProviderArn": f"arn:aws:iam::{self.account}:oidc-provider/{issuer}",
            "clusterSecurityGroupId": f"sg-{_hex('csg', cluster_name)}",
            "nodeSecurityGroupId": f"sg-{_hex('nsg', cluster_name)}",
            "defaultNodeGroupAsgName": "",
            # Extra, visible-only-here facts the render reports for the cluster.
            "endpoint": endpoint,
            "clusterName": cluster_name,
            "arn": self._arn("eks", f"cluster/{cluster_name}"),
        }

    # ------------------------------------------------------------------ invokes
    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """The answer to an invoke or a resource method call, as AWS or the provider would give it."""
        tok, given = args.token, cast(dict[str, Any], args.args)  # pyright: ignore[reportUnknownMemberType]
        if tok == "eks:index:Cluster/getKubeconfig":
            # Resource method call: `__self__` carries the recorded inputs of the cluster.
            this: dict[str, Any] = given.get("__self__") or {}
            cluster: dict[str, Any] = this.get("inputs") or {}
            name = self._eks_cluster_name(str(this.get("urn", "")).rsplit("::", 1)[-1], cluster)
            creds = {k: given[k] for k in ("profileName", "roleArn") if given.get(k)}
            kc = kubeconfig(name, self.region, eks_endpoint(name, self.region), creds, True)
            return {"result": json.dumps(kc)}
        if tok == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = availability_zones(given.get("region") or self.region)
            ids = [zone_id(self.region, i) for i in range(len(names))]
            return {"names": names, "zoneIds": ids, "id": self.region, "groupNames": [self.region]}
        if tok == "aws:eks/getAddonVersion:getAddonVersion":
            # Invented but shaped like EKS's answer (`aws eks describe-addon-versions`).
            addon, k8s_version = str(given.get("addonName")), str(given.get("kubernetesVersion"))
            minor = int(k8s_version.split(".")[1]) if "." in k8s_version else 0
            version = {
                "kube-proxy": f"v{k8s_version}.0-eksbuild.1",
                "coredns": f"v1.{minor - 22}.0-eksbuild.1",
                "vpc-cni": "v1.20.0-eksbuild.1",
            }.get(addon, "v1.0.0-eksbuild.1")
            return {"addonName": addon, "kubernetesVersion": k8s_version, "version": version,
                    "id": f"{addon}-{k8s_version}", "mostRecent": bool(given.get("mostRecent"))}  # fmt: skip
        if tok == "aws:eks/getCluster:getCluster":
            # `aws eks describe-cluster`, the part slipway reads: the security group EKS
            # created for the cluster (distinct from pulumi-eks's own clusterSecurityGroupId).
            name = str(given.get("name"))
            return {
                "name": name,
                "id": name,
                "arn": f"arn:aws:eks:{self.region}:{self.account}:cluster/{name}",
                "endpoint": eks_endpoint(name, self.region),
                "status": "ACTIVE",
                "vpcConfig": {
                    "clusterSecurityGroupId": f"sg-{_hex('eks-cluster-sg', name)}",
                    "controlPlaneEgressMode": "AWS_MANAGED",
                    "endpointPrivateAccess": True,
                    "endpointPublicAccess": False,
                    "publicAccessCidrs": [],
                    "securityGroupIds": [],
                    "subnetIds": [],
                    "vpcId": "",
                },
            }
        if tok == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account,
                "arn": f"arn:aws:iam::{self.account}:user/slipway-render",
                "userId": "AIDAEXAMPLERENDER0001",
                "id": self.account,
            }
        if tok == "aws:index/getRegion:getRegion":
            return {
                "name": self.region,
                "region": self.region,
                "id": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
                "description": self.region,
            }
        if tok == "aws:index/getPartition:getPartition":
            return {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
                "reverseDnsPrefix": "com.amazonaws",
            }
        raise NotImplementedError(
            f"slipway mocks: no answer for invoke {tok!r}. Add one to testing/mocks.py so the render stays realistic."
        )
