"""A claimed stage (processing, observing) says what it claims, runs and writes; the shared loop does the rest."""

from __future__ import annotations

import pytest

from core.pipeline.observer import Observer
from core.pipeline.processor import Processor
from core.pipeline.stage import ClaimedStage


def test_a_stage_that_leaves_out_a_step_cannot_be_built():
    class Unfinished(ClaimedStage):  # type: ignore[type-arg]
        def claim(self, limit=None):
            return []

    with pytest.raises(TypeError, match="abstract"):
        Unfinished(pipeline=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("stage", [Processor, Observer])
def test_the_pipelines_stages_say_every_step(stage):
    assert not stage.__abstractmethods__
