"""The typed schema of a stack's `slipway:` config namespace, one module per section.

Every key a user writes under `slipway:` in `stacks/Pulumi.<stack>.yaml` is parsed
by these models, before any resource is registered. Each field is documented once,
with its default and why. The sections:

- `model.py`: the `Model` base (camelCase keys, `raw_checks` run even when a field
  failed to parse, so one run reports every mistake) and rules several sections share;
- `network.py`: `slipway:network`;
- `cluster.py`: `slipway:cluster` and its API endpoint;
- `node_pools.py`: `slipway:nodePools`;
- `access.py`: `slipway:access` and `slipway:identity`;
- `addons.py`: `slipway:registry`, `slipway:metricsServer`, `slipway:loadBalancerController`;
- `argo.py`: `slipway:argo`.

This module re-exports their names, so `from slipway.program.config.schema import …`
keeps working.
"""

from __future__ import annotations

from slipway.program.config.access import (
    IAM_PRINCIPAL_ARN,
    RESERVED_USERNAME_PREFIXES,
    AccessConfig,
    AccessLevel,
    IdentityConfig,
    PrincipalConfig,
    _arn_key,
)
from slipway.program.config.addons import (
    ECR_NAME,
    LoadBalancerControllerConfig,
    MetricsServerConfig,
    RegistryConfig,
)
from slipway.program.config.argo import (
    S3_BUCKET,
    ArgoArtifactsConfig,
    ArgoConfig,
    ArgoIngressConfig,
    ArgoSsoConfig,
    ParameterConfig,
    WorkflowTemplateConfig,
)
from slipway.program.config.cluster import (
    DEFAULT_KUBERNETES_VERSION,
    SUPPORTED_KUBERNETES_VERSIONS,
    ClusterConfig,
    EndpointConfig,
)
from slipway.program.config.model import (
    ACM_ARN,
    DNS1123_LABEL,
    Model,
    _dict,
    certificate_arn_issues,
    dns1123_name_issues,
    image_issues,
    missing_certificate_issues,
    parse_quantity,
    quantity_example,
)
from slipway.program.config.network import PRIVATE_CLUSTER_ENDPOINTS, InterfaceEndpoint, NetworkConfig
from slipway.program.config.node_pools import INSTANCE_TYPE, AmiType, NodePoolConfig, PodsConfig, Taint

__all__ = [
    "ACM_ARN",
    "DEFAULT_KUBERNETES_VERSION",
    "DNS1123_LABEL",
    "ECR_NAME",
    "IAM_PRINCIPAL_ARN",
    "INSTANCE_TYPE",
    "PRIVATE_CLUSTER_ENDPOINTS",
    "RESERVED_USERNAME_PREFIXES",
    "S3_BUCKET",
    "SUPPORTED_KUBERNETES_VERSIONS",
    "AccessConfig",
    "AccessLevel",
    "AmiType",
    "ArgoArtifactsConfig",
    "ArgoConfig",
    "ArgoIngressConfig",
    "ArgoSsoConfig",
    "ClusterConfig",
    "EndpointConfig",
    "IdentityConfig",
    "InterfaceEndpoint",
    "LoadBalancerControllerConfig",
    "MetricsServerConfig",
    "Model",
    "NetworkConfig",
    "NodePoolConfig",
    "ParameterConfig",
    "PodsConfig",
    "PrincipalConfig",
    "RegistryConfig",
    "Taint",
    "WorkflowTemplateConfig",
    "certificate_arn_issues",
    "dns1123_name_issues",
    "image_issues",
    "missing_certificate_issues",
    "parse_quantity",
    "quantity_example",
    # Private helpers that other modules of the program import from here.
    "_arn_key",
    "_dict",
]
