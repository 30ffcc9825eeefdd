"""slipway.testing: the mocks, recorder and assertions slipway's own tests use, for yours.

- `SlipwayMocks`: realistic AWS/EKS answers (ids, ARNs, endpoint, OIDC issuer, kubeconfig);
  works with plain `pulumi.runtime.set_mocks(SlipwayMocks())`, pulumi-eks's
  `Cluster.get_kubeconfig` included, and records every registration.
- `mocked()`: the same behind a `RecordingMonitor`, run as a preview, failing on unknown
  values (the silent pass of pulumi/pulumi#4518); `require_known(...)` for returned outputs.
- `Template`: assertions over what was registered, in the spirit of aws-cdk's
  `assertions.Template` — `find`, `one`, `resource_count_is`, `has_resource_properties`
  (partial matching, with `Match`), `depends_on`, `ancestors`, `has_options`.
"""

from slipway.testing.harness import Mocked, mocked, require_known
from slipway.testing.match import Match, Matcher, matches, mismatches
from slipway.testing.mocks import ACCOUNT_ID, SlipwayMocks
from slipway.testing.monitor import SECRET, Recorded, RecordingMonitor, RenderError
from slipway.testing.template import RecordRef, Template, refs

__all__ = [
    "ACCOUNT_ID",
    "SECRET",
    "Match",
    "Matcher",
    "Mocked",
    "RecordRef",
    "Recorded",
    "RecordingMonitor",
    "RenderError",
    "SlipwayMocks",
    "Template",
    "matches",
    "mismatches",
    "mocked",
    "refs",
    "require_known",
]
