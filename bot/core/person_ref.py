"""Who a person is, on one platform."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PersonRef:
    """A person's identity on one platform: journeys never cross platforms or workspaces.

    `enterprise_id` is the Enterprise Grid org of the workspace, where there is one: not part
    of the identity, it tells which installation's token reaches the person.
    """

    platform: str
    workspace_id: str
    user_id: str
    enterprise_id: str | None = field(default=None, compare=False)
