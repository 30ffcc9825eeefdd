"""`slipway catalog refresh`: rebuild the instance catalog from AWS with boto3.

* EC2 `DescribeInstanceTypes` (paginated, filtered to the families we plan with):
  vCPU, memory, ENIs, IPv4 per ENI, architecture, generation, burstable.
* EC2 `DescribeInstanceTypeOfferings`, one query per AZ of the region: which AZs
  offer each type (a pool spread over AZs needs its type in each of them).
* Pricing `GetProducts` (the API lives in us-east-1 whatever the region): the
  on-demand Linux, shared-tenancy hourly price of each type in the region.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any

# Families the planner considers by default: current general purpose, compute and
# memory optimised, x86 (Intel/AMD) and Graviton, plus the burstable t-classes.
DEFAULT_FAMILIES = (
    "t3", "t3a", "t4g",
    "m5", "m6i", "m6a", "m7i", "m6g", "m7g",
    "c5", "c6i", "c7i", "c6g", "c7g",
    "r5", "r6i", "r7i", "r6g", "r7g",
)  # fmt: skip
# Sizes worth running Kubernetes on: nano has 512 MiB (nothing fits after
# kube-reserved) and metal/very large sizes are rarely cheaper per pod.
SKIP_SIZES = ("nano",)
MAX_VCPU = 64

Progress = Callable[[str, int, int], None]


def _noop(_: str, __: int, ___: int) -> None:
    pass


def fetch_instance_types(ec2: Any, families: Iterable[str]) -> dict[str, dict[str, Any]]:
    """DescribeInstanceTypes for `families`, as catalog entries (no price yet)."""
    out: dict[str, dict[str, Any]] = {}
    pages = ec2.get_paginator("describe_instance_types").paginate(
        Filters=[{"Name": "instance-type", "Values": [f"{f}.*" for f in families]}]
    )
    for page in pages:
        for it in page["InstanceTypes"]:
            name = it["InstanceType"]
            size = name.split(".", 1)[1]
            if size in SKIP_SIZES or "metal" in size or it["VCpuInfo"]["DefaultVCpus"] > MAX_VCPU:
                continue
            archs = it["ProcessorInfo"]["SupportedArchitectures"]
            out[name] = {
                "vcpu": it["VCpuInfo"]["DefaultVCpus"],
                "memoryMiB": it["MemoryInfo"]["SizeInMiB"],
                "maxEnis": it["NetworkInfo"]["MaximumNetworkInterfaces"],
                "ipv4PerEni": it["NetworkInfo"]["Ipv4AddressesPerInterface"],
                "architecture": "arm64" if "arm64" in archs else "x86_64",
                "currentGeneration": bool(it.get("CurrentGeneration")),
                "burstable": bool(it.get("BurstablePerformanceSupported")),
            }
    return out


def fetch_offerings(ec2: Any, progress: Progress = _noop) -> dict[str, list[str]]:
    """{instance type: [AZs offering it]} from one DescribeInstanceTypeOfferings query per AZ."""
    azs = sorted(z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"])
    offered: dict[str, list[str]] = {}
    for i, az in enumerate(azs):
        progress(f"offerings in {az}", i, len(azs))
        pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
            LocationType="availability-zone", Filters=[{"Name": "location", "Values": [az]}]
        )
        for page in pages:
            for o in page["InstanceTypeOfferings"]:
                offered.setdefault(o["InstanceType"], []).append(az)
    progress("offerings", len(azs), len(azs))
    return {t: sorted(set(z)) for t, z in offered.items()}


def pricing_filters(region: str, instance_type: str) -> list[dict[str, str]]:
    """GetProducts filters for the on-demand Linux, shared-tenancy, no-license price."""
    fields = {
        "instanceType": instance_type,
        "regionCode": region,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in fields.items()]


def on_demand_price(price_list: list[str]) -> float | None:
    """The hourly USD price from a GetProducts PriceList (JSON strings)."""
    for item in price_list:
        product = json.loads(item)
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dim in term.get("priceDimensions", {}).values():
                usd = dim.get("pricePerUnit", {}).get("USD")
                if usd is not None and float(usd) > 0:
                    return float(usd)
    return None


def fetch_prices(pricing: Any, region: str, types: Iterable[str], progress: Progress = _noop) -> dict[str, float]:
    """Hourly on-demand prices per type (types without a price are left out)."""
    names = sorted(types)
    prices: dict[str, float] = {}
    for i, name in enumerate(names):
        progress(f"price of {name}", i, len(names))
        resp = pricing.get_products(
            ServiceCode="AmazonEC2", Filters=pricing_filters(region, name), FormatVersion="aws_v1", MaxResults=10
        )
        price = on_demand_price(resp.get("PriceList", []))
        if price is not None:
            prices[name] = price
    progress("prices", len(names), len(names))
    return prices


def refresh_catalog(
    region: str,
    ec2: Any,
    pricing: Any,
    families: Iterable[str] = DEFAULT_FAMILIES,
    progress: Progress = _noop,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Build the catalog document for `region` from the EC2 and Pricing APIs."""
    families = tuple(families)
    progress("instance types", 0, 1)
    types = fetch_instance_types(ec2, families)
    offerings = fetch_offerings(ec2, progress)
    prices = fetch_prices(pricing, region, types, progress)
    for name, t in types.items():
        t["zones"] = offerings.get(name, [])
        if name in prices:
            t["hourlyUsd"] = prices[name]
    date = (today or dt.date.today()).isoformat()
    return {
        "region": region,
        "priceDate": date,
        "source": {
            "types": f"EC2 DescribeInstanceTypes and DescribeInstanceTypeOfferings in {region}, {date}",
            "prices": f"AWS Pricing GetProducts, on-demand Linux shared tenancy in {region}, {date}",
            "families": ",".join(families),
        },
        "types": dict(sorted(types.items())),
    }
