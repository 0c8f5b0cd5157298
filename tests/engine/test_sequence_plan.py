"""Plans written by people (JSON or YAML): defaults under each shot's own settings, images next
to the plan file, and a clear word for each mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from runway_desktop.engine.sequence_plan import PlanError, load_plan, plan_from_data
from runway_desktop.engine.settings_changes import SettingsChanges


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "start.png"
    Image.new("RGB", (64, 36)).save(path)
    return path


def test_yaml_and_json_plans_read_the_same(tmp_path: Path, image: Path) -> None:
    data = {"name": "Film", "model": "runway-gen4.5", "duration": 10, "ratio": "9:16",
            "seed": 4, "shots": [{"prompt": " one ", "image": "start.png"},
                                 {"prompt": "two", "duration": 5, "seed": 9}, "three"]}
    (tmp_path / "plan.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "plan.yml").write_text(
        "name: Film\nmodel: runway-gen4.5\nduration: 10\nratio: '9:16'\nseed: 4\nshots:\n"
        "  - {prompt: ' one ', image: start.png}\n  - {prompt: two, duration: 5, seed: 9}\n"
        "  - three\n", encoding="utf-8")
    from_json, from_yaml = load_plan(tmp_path / "plan.json"), load_plan(tmp_path / "plan.yml")
    assert from_json.shots == from_yaml.shots
    assert from_json.name == "Film"
    assert [s.prompt for s in from_json.shots] == ["one", "two", "three"]
    base = SettingsChanges(duration=10, aspect_ratio="9:16", seed=4, model="runway-gen4.5")
    assert from_json.shots[0].changes == SettingsChanges(
        duration=10, aspect_ratio="9:16", seed=4, model="runway-gen4.5", image_path=str(image))
    assert from_json.shots[1].changes == SettingsChanges(
        duration=5, aspect_ratio="9:16", seed=9, model="runway-gen4.5")
    assert from_json.shots[2].changes == base
    # The source names the file and its content: the same file again is the same plan.
    assert from_json.source is not None
    assert from_json.source.startswith(f"{tmp_path / 'plan.json'}#sha256:")
    assert load_plan(tmp_path / "plan.json").source == from_json.source


def test_a_bare_list_of_prompts_is_a_plan(tmp_path: Path) -> None:
    plan = plan_from_data(["a", "b"], base_dir=tmp_path, default_name="mine")
    assert (plan.name, [s.prompt for s in plan.shots]) == ("mine", ["a", "b"])
    assert all(s.changes.is_empty for s in plan.shots)


def test_an_https_image_is_a_url(tmp_path: Path) -> None:
    plan = plan_from_data({"shots": [{"prompt": "a", "image": "https://example.com/a.png"}]},
                          base_dir=tmp_path)
    assert plan.shots[0].changes.image_url == "https://example.com/a.png"
    assert plan.shots[0].changes.image_path is None


@pytest.mark.parametrize(("data", "fragment"), [
    ("just text", "mapping with a list of `shots`"),
    ({"shots": "a"}, "no `shots`"),
    ({"shots": [{"duration": 5}]}, "shot 1 has no prompt"),
    ({"shots": ["a", {"prompt": "b", "image": "x.png"}]}, "only the first shot"),
    ({"shots": ["a"], "length": 5}, "doesn't know: length"),
    ({"shots": [{"prompt": "a", "speed": 2}]}, "shot 1 has settings"),
    ({"shots": ["a"], "duration": "5"}, "`duration` must be a whole number"),
    ({"shots": ["a"], "seed": True}, "`seed` must be a whole number"),
    ({"shots": ["a"], "image": "x.png"}, "belong to a shot"),
    ({"shots": [{"prompt": "a", "image": "gone.png"}]}, "doesn't exist"),
    ({"shots": ["a"] * 101}, "at most 100"),
])
def test_mistakes_are_named(tmp_path: Path, data: object, fragment: str) -> None:
    with pytest.raises(PlanError) as caught:
        plan_from_data(data, base_dir=tmp_path)
    assert fragment in caught.value.message


def test_unreadable_and_broken_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="Can't read the plan"):
        load_plan(tmp_path / "missing.yaml")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(PlanError, match="not valid JSON"):
        load_plan(tmp_path / "broken.json")
    (tmp_path / "broken.yaml").write_text("shots: [a\n", encoding="utf-8")
    with pytest.raises(PlanError, match="not valid YAML at line"):
        load_plan(tmp_path / "broken.yaml")
