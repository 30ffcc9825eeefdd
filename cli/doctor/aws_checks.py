"""Doctor checks that read AWS: instance offerings, subnet tags, image tags, target health, quotas.

Each check takes a `DoctorContext` and returns `Finding`s; none changes anything in
the account. A check whose API call is refused (AccessDenied, UnauthorizedOperation)
returns one `warn` naming the IAM action to allow, instead of raising (see `_aws`).
"""

from __future__ import annotations

from slipway.cli.doctor.image_checks import check_image_tags
from slipway.cli.doctor.lb_checks import check_target_health
from slipway.cli.doctor.offering_checks import check_instance_offerings
from slipway.cli.doctor.quota_checks import check_quotas
from slipway.cli.doctor.run import Check
from slipway.cli.doctor.subnet_checks import check_subnet_tags

AWS_CHECKS: list[Check] = [
    check_instance_offerings,
    check_subnet_tags,
    check_image_tags,
    check_target_health,
    check_quotas,
]
