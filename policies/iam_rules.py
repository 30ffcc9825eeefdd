"""IAM guardrails: IRSA trust exactly scoped, no wildcard or escalation actions, no admin."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from slipway.policies.base import Props, Violation, as_mapping, mappings, one_or_many

ROLE = frozenset({"aws:iam/role:Role"})
IDENTITY_POLICIES = frozenset({
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
})  # fmt: skip
ATTACHMENTS = frozenset({
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
})  # fmt: skip

# Actions that let a principal grant itself more (Rhino Security Labs' IAM escalation
# methods); allowed only on specific resources, never on "*".
ESCALATION_ACTIONS = frozenset({
    "iam:createpolicyversion", "iam:setdefaultpolicyversion", "iam:attachuserpolicy", "iam:attachrolepolicy",
    "iam:attachgrouppolicy", "iam:putuserpolicy", "iam:putrolepolicy", "iam:putgrouppolicy",
    "iam:createaccesskey", "iam:createloginprofile", "iam:updateloginprofile", "iam:updateassumerolepolicy",
    "iam:addusertogroup", "iam:passrole", "sts:assumerole",
})  # fmt: skip
ADMIN_POLICIES = ("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess")


def _document(value: Any) -> Mapping[str, Any]:
    """A policy document: a JSON string (the usual), or an object (a dict offline, a proxy in a preview)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return as_mapping(value)


def _statements(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Statement is one object or an array of them."""
    return mappings(one_or_many(doc.get("Statement")))


def check_irsa_trust(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    """A role trusted by an EKS OIDC provider must name one ServiceAccount and the STS audience exactly."""
    for st in _statements(_document(props.get("assumeRolePolicy"))):
        federated = one_or_many(as_mapping(st.get("Principal")).get("Federated"))  # Principal may be "*"
        if not any("oidc-provider/oidc.eks." in str(f) for f in federated):
            continue
        cond = as_mapping(st.get("Condition"))
        equals = as_mapping(cond.get("StringEquals"))
        subs = {k: v for k, v in equals.items() if str(k).endswith(":sub")}
        auds = {k: v for k, v in equals.items() if str(k).endswith(":aud")}
        if "StringLike" in cond or any("*" in str(v) for v in subs.values()):
            yield Violation(
                "the IRSA trust policy matches ServiceAccounts with a pattern (StringLike or *)",
                "use StringEquals on <issuer>:sub = system:serviceaccount:<namespace>:<name>",
            )
        elif len(subs) != 1 or not str(next(iter(subs.values()))).startswith("system:serviceaccount:"):
            yield Violation(
                "the IRSA trust policy does not pin <issuer>:sub to one ServiceAccount",
                "add StringEquals <issuer>:sub = system:serviceaccount:<namespace>:<name>",
            )
        if list(auds.values()) != ["sts.amazonaws.com"]:
            yield Violation("the IRSA trust policy does not require <issuer>:aud = sts.amazonaws.com",
                            "add StringEquals <issuer>:aud = sts.amazonaws.com")  # fmt: skip


def check_identity_actions(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    """No `*`/`service:*` actions (unless listed as a documented exception), no escalation on `*`."""
    allowed = {str(a).lower() for a in one_or_many(config.get("allowedWildcardActions"))}
    for st in _statements(_document(props.get("policy"))):
        if st.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in one_or_many(st.get("Action"))]
        resources = [str(r) for r in one_or_many(st.get("Resource"))]
        wild = [a for a in actions if (a == "*" or a.endswith(":*")) and a.lower() not in allowed]
        if wild:
            yield Violation(f"the policy allows wildcard actions {wild}",
                            "list the actions the workload needs (or document the exception in the policy "
                            "config's allowedWildcardActions)")  # fmt: skip
        escalating = sorted(a for a in actions if a.lower() in ESCALATION_ACTIONS)
        if escalating and "*" in resources:
            yield Violation(f"the policy allows privilege-escalation actions {escalating} on every resource",
                            "scope them to the specific ARNs the workload must manage")  # fmt: skip


def check_no_admin(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    arn = str(props.get("policyArn", ""))
    if arn in ADMIN_POLICIES:
        yield Violation(f"{arn.rsplit('/', 1)[-1]} is attached", "attach a least-privilege policy instead")
