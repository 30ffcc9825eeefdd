"""`slipway plan <stack> --base <git ref | render dir>`: what `pulumi up` will do to a running
stack, offline — no cloud credentials, no state backend — so that forks and reviewers see it on
every pull request.

It renders the stack at the base and at the working tree and compares the two renders:

- `diff.py`    per resource: create, update (changed input paths), replace (the property that
               forces it, from the replacement facts) or delete, aliases included; the model
               it builds (`model.py`), its input paths and values (`values.py`), the URNs and
               the dependency graph (`graph.py`), and the values that change on apply
               (`tracing.py`: new ids after a replacement, a launch template's new version);
- `facts.py`   the replacement facts per resource type, from the providers' own sources;
- `order.py`   the order `pulumi up` follows and the wall time along the critical path;
- `hazards.py` what a reviewer must see: node groups replaced or rolled, stateful resources
               replaced, access lost, load balancers re-created, immutable Kubernetes fields,
               protected resources;
- `report.py`  the report: hazards, counts, each change, order and time, verdict — as a
               table, Markdown (pull-request comment) or JSON;
- `command.py` the command: the two renders (the base's own code in a git worktree) and the
               exit code (1 when a protected resource would be deleted or replaced).
"""
