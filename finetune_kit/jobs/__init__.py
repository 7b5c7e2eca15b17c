"""Fine-tuning jobs: the plan-based engine, sync and async clients, metrics, archive."""

from __future__ import annotations

from finetune_kit.jobs import archive as _archive
from finetune_kit.jobs import client as _client
from finetune_kit.jobs import metrics as _metrics
from finetune_kit.jobs import models as _models
from finetune_kit.jobs import shutdown as _shutdown
from finetune_kit.jobs.archive import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.jobs.client import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.jobs.metrics import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.jobs.models import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.jobs.shutdown import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _models.__all__
__all__ += _client.__all__
__all__ += _metrics.__all__
__all__ += _archive.__all__
__all__ += _shutdown.__all__
