"""The model specification as data: sections, prior families, settings, parsing and printing."""

from necc_bayes.spec.io import (
    load_spec,
    parse_spec,
    spec_hash,
    spec_to_dict,
    to_toml,
    with_sampler_overrides,
)
from necc_bayes.spec.model import ModelSpec, did_you_mean, ordinal_term
from necc_bayes.spec.settings import SamplerSettings, Thresholds

__all__ = [
    "ModelSpec",
    "SamplerSettings",
    "Thresholds",
    "did_you_mean",
    "load_spec",
    "ordinal_term",
    "parse_spec",
    "spec_hash",
    "spec_to_dict",
    "to_toml",
    "with_sampler_overrides",
]
