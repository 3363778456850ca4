"""The excluded-program list in params.yaml is exactly what measuring the rendered pitch finds."""

from pitchpipe.data.audit import mismatched_programs
from pitchpipe.config import render_config


def test_excluded_programs_are_exactly_the_mismatched_ones(default_params):
    config = render_config(default_params)
    measured = mismatched_programs(config.soundfonts)
    assert sorted(measured) == sorted(config.excluded_programs), measured
