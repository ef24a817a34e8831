"""Service bodies: the catalogue entry requests refer to by ``code``, cut from the table's base model
(``dispatch.storage.models.ServiceBase``), where the fields' rules are written once."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import INPUT_CONFIG, PUBLIC_CONFIG, InputModel
from dispatch.fields import Skills
from dispatch.fields import ID_PATTERN
from dispatch.limits import MAX_VISIT_MINUTES
from dispatch.storage.models import ServiceBase, ServiceKind
from dispatch.domain import WorkerKind

WORKER_KINDS_DOC = "who may do it: " + ", ".join(k.value for k in WorkerKind)


class ServiceCreate(ServiceBase):
    """A new service: the fields and rules of ``dispatch.storage.models.ServiceBase`` and its code."""

    model_config = INPUT_CONFIG
    code: str = Field(pattern=ID_PATTERN, description="the id requests use, e.g. home_care or rehabilitation")
    worker_kinds: list[WorkerKind] = Field(min_length=1, max_length=len(WorkerKind),  # type: ignore[assignment]
                                           description=WORKER_KINDS_DOC)


class ServiceUpdate(InputModel):
    """Only the fields sent change; ``kind`` only while no request refers to the service (409)."""

    name_pl: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, min_length=1, max_length=200)
    default_duration: int | None = Field(default=None, ge=1, le=MAX_VISIT_MINUTES)
    required_skills: Skills | None = None
    worker_kinds: list[WorkerKind] | None = Field(default=None, min_length=1, max_length=len(WorkerKind))
    mandatory: bool | None = None
    kind: ServiceKind | None = None
    working_days_only: bool | None = None
    intimate_care: bool | None = None


class ServicePublic(ServiceBase):
    """A service as stored (``worker_kinds`` as the stored strings)."""

    model_config = PUBLIC_CONFIG
    code: str
