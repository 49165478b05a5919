"""Random input to the parsers that read files and answers (issue 15): each either accepts it
or refuses it with its own documented error, never anything else, and never hangs.

Covered here: configuration files, scenario files, the backend contract's JSON, scanned
payloads as bytes. The device parsers (GA/T 467 frames, lock-board frames, scanner lines,
ESC/POS simulator input, code text) have their own properties in tests/drivers.
``python benchmarks/fuzz.py`` runs every property much longer.
"""
from __future__ import annotations

import inspect
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from fuzz_profiles import fuzz_settings
from kiosk.backend import models as m
from kiosk.config import ConfigError, parse_settings
from kiosk.payloads import classify
from kiosk.scenario.model import ScenarioError
from kiosk.scenario.parse import parse_scenario

TOML_ALPHABET = st.sampled_from(list('[]{}="\'.,-_#:+ \n\t0123456789abcdefinrstuxyz') + ["nan", "inf", "true",
                                "terminal", "devices", "idcard", "timeout_seconds", "[[x]]", "é", "\\u0000"])
YAML_ALPHABET = st.sampled_from(list("-:[]{}#'\"|>&*!%@` \n\t0123456789abc") + [
    "steps", "name", "screen", "tap", "type", "see", "sim", "wait", "timeout", "home", "card place resident",
    "{enter}", "{1}", "kb.hide", "\\x00", "中文", "null", "~", "1e9", "-1", "nan"])


def _toml_like():
    return st.lists(TOML_ALPHABET, max_size=120).map("".join)


@fuzz_settings()
@given(st.one_of(st.text(max_size=400), _toml_like()))
def test_a_random_config_file_is_a_config_error_at_worst(text):
    try:
        parse_settings('[terminal]\nid = "HK-1"\nname = "x"\n' + text)
    except ConfigError as error:
        assert "\n" not in str(error).rstrip("\n") or str(error).count("\n") < 3


@fuzz_settings()
@given(st.one_of(st.text(max_size=400), st.lists(YAML_ALPHABET, max_size=80).map("".join)))
def test_a_random_scenario_file_is_a_scenario_error_at_worst(text):
    try:
        parse_scenario(text)
    except ScenarioError:
        pass


MODELS = [cls for _name, cls in inspect.getmembers(m, inspect.isclass)
          if issubclass(cls, BaseModel) and cls.__module__ == m.__name__ and cls is not m.ContractModel]

JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                                       max_size=6),
                           max_leaves=30)


@pytest.mark.parametrize("model", MODELS, ids=lambda cls: cls.__name__)
@fuzz_settings(40)
@given(st.one_of(st.binary(max_size=200), JSON_VALUES.map(lambda v: json.dumps(v).encode())))
def test_a_random_backend_answer_fits_the_contract_or_is_refused(model, body):
    try:
        model.model_validate_json(body)
    except ValidationError as error:
        # what the kiosk and the backend say of a problem names no input: not its values, not its keys
        said = " ".join(f"{m.error_location(problem)}: {problem['msg']}" for problem in error.errors())
        assert "370503" not in said


@fuzz_settings()
@given(st.binary(max_size=600))
def test_random_scanned_bytes_are_classified_or_rejected(raw):
    payload = classify(raw, "scanner")
    assert payload.kind
    assert "\ufffd" not in payload.text
    assert len(repr(payload)) < 120  # the text never reaches a log line through repr
