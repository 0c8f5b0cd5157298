"""GenerateVideoRequest validation: valid input round-trips, invalid input names its field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runway_desktop.api import (
    ApiError,
    GenerateVideoRequest,
    InvalidRequestError,
    prompt_length,
    validate_idempotency_key,
)
from runway_desktop.api.catalog import GEN4_5, GEN4_TURBO, ModelSpec, has_visible_text

ASPECT_RATIOS = GEN4_TURBO.aspect_ratios
MAX_SEED = GEN4_TURBO.max_seed
MODEL = GEN4_TURBO.id

VALID_IMAGE = "https://cdn.example/u/abc.png"

prompts = st.text(min_size=1, max_size=1000).filter(
    lambda s: s.strip() == s and has_visible_text(s) and prompt_length(s) <= 1000
)
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}", fullmatch=True)
paths = st.from_regex(r"(/[A-Za-z0-9._~-]{1,12}){0,4}", fullmatch=True)
https_images = st.builds(lambda h, p: f"https://{h}{p}", hosts, paths)
loopback_images = st.builds(
    lambda h, p: f"http://{h}{p}",
    st.sampled_from(["127.0.0.1:8123", "127.5.6.7", "localhost:9000", "[::1]:4000", "LOCALHOST"]),
    paths,
)


def _problem(**overrides: object) -> InvalidRequestError:
    fields: dict[str, object] = {"prompt": "a cat", "image": VALID_IMAGE}
    fields.update(overrides)
    with pytest.raises(InvalidRequestError) as info:
        GenerateVideoRequest(**fields)  # type: ignore[arg-type]
    return info.value


@given(
    prompt=prompts,
    image=st.none() | https_images | loopback_images,
    duration=st.sampled_from([None, 5, 10]),
    ratio=st.none() | st.sampled_from(ASPECT_RATIOS),
    seed=st.none() | st.integers(0, MAX_SEED),
)
def test_valid_input_round_trips_into_the_body(prompt, image, duration, ratio, seed):
    request = GenerateVideoRequest(prompt, image, duration, ratio, seed)
    expected_params = {
        key: value
        for key, value in {
            "image": image,
            "duration": duration,
            "aspect_ratio": ratio,
            "seed": seed,
        }.items()
        if value is not None
    }
    expected = {"prompt": prompt, "model": MODEL}
    if expected_params:
        expected["runwayParams"] = expected_params
    assert request.to_json() == expected
    assert request.price == (15 if duration == 10 else 8)


def test_full_example_from_the_contract():
    request = GenerateVideoRequest(
        "slow dolly-in, leaves drifting", VALID_IMAGE, duration=10, aspect_ratio="16:9", seed=42
    )
    assert request.to_json() == {
        "prompt": "slow dolly-in, leaves drifting",
        "model": "runway-gen4-turbo",
        "runwayParams": {"image": VALID_IMAGE, "duration": 10, "aspect_ratio": "16:9", "seed": 42},
    }


@given(st.text(max_size=20).filter(has_visible_text), st.sampled_from(["", " ", "\n\t "]))
def test_prompt_is_trimmed(core, pad):
    core = core.strip()
    request = GenerateVideoRequest(pad + core + pad, VALID_IMAGE)
    assert request.prompt == core
    assert request.to_json()["prompt"] == core


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t", None, 42])
def test_missing_prompt(prompt):
    err = _problem(prompt=prompt)
    assert err.field == "prompt"
    assert isinstance(err, ApiError)
    assert isinstance(err, ValueError)


@pytest.mark.parametrize("prompt", ["\u200b\u200b", "\x07", "\x00", "\u200d\ufeff \x1b",
                                    "\u2060\u00ad", "\x07\u200b\t\u3000"])
def test_a_prompt_of_only_invisible_characters_is_empty(prompt):
    err = _problem(prompt=prompt)
    assert err.field == "prompt"
    assert "The prompt is empty" in err.message
    assert "invisible characters" in err.message


@pytest.mark.parametrize("prompt", ["\u200bcat", "a\x07b", "\u0301e", "🎬"])
def test_a_prompt_with_something_visible_is_kept(prompt):
    assert GenerateVideoRequest(prompt, VALID_IMAGE).prompt == prompt.strip()


@given(st.integers(1001, 3000))
def test_too_long_prompt_message(length):
    err = _problem(prompt="x" * length)
    assert err.field == "prompt"
    assert err.message == f"The prompt is {length:,} characters; the limit is 1,000."


def test_prompt_limit_boundary_and_utf16_counting():
    GenerateVideoRequest("x" * 1000, VALID_IMAGE)
    GenerateVideoRequest("  " + "x" * 1000 + "  ", VALID_IMAGE)  # trimmed before counting
    assert _problem(prompt="x" * 1001).message.startswith("The prompt is 1,001 characters")
    # Runway counts UTF-16 units: 500 emoji are 1,000 units, 501 are too many.
    GenerateVideoRequest("🎬" * 500, VALID_IMAGE)
    assert _problem(prompt="🎬" * 501).field == "prompt"


def test_lone_surrogate_prompt_is_refused():
    assert _problem(prompt="cat \ud800").field == "prompt"


@given(
    st.integers().filter(lambda n: n not in (5, 10))
    | st.booleans()
    | st.floats(allow_nan=True)
    | st.sampled_from(["5", "10", 5.0, 10.0])
)
def test_invalid_duration(duration):
    err = _problem(duration=duration)
    assert err.field == "duration"
    assert "5 or 10" in err.message


@given(st.text(max_size=8).filter(lambda s: s not in ASPECT_RATIOS) | st.integers())
def test_invalid_aspect_ratio(ratio):
    err = _problem(aspect_ratio=ratio)
    assert err.field == "aspect_ratio"


@given(
    st.integers(max_value=-1)
    | st.integers(min_value=MAX_SEED + 1)
    | st.booleans()
    | st.floats()
    | st.just("42")
)
def test_invalid_seed(seed):
    err = _problem(seed=seed)
    assert err.field == "seed"


@pytest.mark.parametrize("seed", [0, 1, MAX_SEED])
def test_seed_bounds(seed):
    assert (
        GenerateVideoRequest("p", VALID_IMAGE, seed=seed).to_json()["runwayParams"]["seed"] == seed
    )


@pytest.mark.parametrize(
    "image",
    [
        "",
        "http://cdn.example/a.png",  # plain http to a real host
        "http://10.0.0.1/a.png",
        "http://128.0.0.1/a.png",
        "http://localhost.evil.com/a.png",
        "ftp://cdn.example/a.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "https:///nohost.png",
        "cdn.example/a.png",
        " https://cdn.example/a.png",
        "https://cdn.example/a b.png",
        "https://cdn.example:99999/a.png",
        "https://cdn.example/" + "a" * 2100,
        42,
    ],
)
def test_invalid_image(image):
    err = _problem(image=image)
    assert err.field == "image"


@given(https_images | loopback_images)
def test_valid_images(image):
    assert GenerateVideoRequest("p", image).image == image


def test_every_bad_field_is_reported_at_once():
    err = _problem(prompt="", duration=7, aspect_ratio="2:1", seed=-1, image="http://x.com/a")
    assert set(err.problems) == {"prompt", "duration", "aspect_ratio", "seed", "image"}
    for text in err.problems.values():
        assert text in err.message


def test_image_is_optional_and_runway_params_omitted_when_empty():
    assert GenerateVideoRequest("a cat").to_json() == {"prompt": "a cat", "model": MODEL}


def test_the_body_names_the_chosen_model_and_its_params_block():
    request = GenerateVideoRequest("a cat", VALID_IMAGE, duration=10, model=GEN4_5)
    assert request.to_json() == {"prompt": "a cat", "model": "runway-gen4.5",
                                 "runwayParams": {"image": VALID_IMAGE, "duration": 10}}
    assert request.price is None  # Gen-4.5's price is only in /v2/models
    other = ModelSpec(id="acme-v1", label="Acme", params_key="acmeParams",
                      image_slots=("start_image",), prices={5: 3})
    assert GenerateVideoRequest("a cat", VALID_IMAGE, model=other).to_json() == {
        "prompt": "a cat", "model": "acme-v1", "acmeParams": {"start_image": VALID_IMAGE}}
    assert GenerateVideoRequest("a cat", model=other).price == 3


def test_each_rule_comes_from_the_model():
    narrow = ModelSpec(id="narrow", label="Narrow", durations=(4,), default_duration=4,
                       aspect_ratios=("1:1",), seed_range=(0, 99), prompt_limit=10,
                       image_slots=())
    GenerateVideoRequest("ten chars!", duration=4, aspect_ratio="1:1", seed=99, model=narrow)
    GenerateVideoRequest("🎬" * 5, model=narrow)  # 10 UTF-16 units
    err = _problem(prompt="🎬" * 6, duration=5, aspect_ratio="16:9", seed=100, model=narrow)
    assert set(err.problems) == {"prompt", "duration", "aspect_ratio", "seed", "image"}
    assert err.problems["prompt"] == "The prompt is 12 characters; the limit is 10."
    assert "4 seconds for Narrow" in err.problems["duration"]
    assert err.problems["image"] == "Narrow takes no start image."


def test_a_model_must_be_a_catalog_entry():
    assert _problem(model="runway-gen4.5").field == "model"


def test_request_is_frozen():
    request = GenerateVideoRequest("a cat", VALID_IMAGE)
    with pytest.raises(AttributeError):
        request.prompt = "a dog"  # type: ignore[misc]


@pytest.mark.parametrize("key", ["", "k" * 256, "has space", "ключ", None, 5])
def test_bad_idempotency_keys(key):
    with pytest.raises(InvalidRequestError) as info:
        validate_idempotency_key(key)
    assert info.value.field == "idempotency_key"


@given(
    st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=255
    )
)
def test_good_idempotency_keys(key):
    assert validate_idempotency_key(key) == key
