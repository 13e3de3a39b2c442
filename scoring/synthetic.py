"""A synthetic suite and submission of any size, for the pipeline benchmark and the pipeline tests.

It replicates the prompts of a generated demo (`leaderboard.demo.generator.generate_demo`) under new
ids (`<prompt>-r00`, `<prompt>-r01`, ...) and packs the demo model's real H.264 + AAC clips under
those ids, so a 30-clip submission costs one small demo render, not 30. Pure file work, no Django.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SyntheticSubmission:
    suite_dir: Path
    archive: Path
    prompt_ids: list[str]
    source_of: dict[str, str]  # replicated prompt id -> the demo prompt id it copies


def replicate_demo(
    demo_dir: Path,
    out_dir: Path,
    *,
    model_slug: str,
    clips: int,
    suite_name: str = "pipeline-synthetic",
    suite_version: str = "1",
    only_prompts: list[str] | None = None,
) -> SyntheticSubmission:
    """Write `out_dir/suite/` (a suite of `clips` prompts) and `out_dir/<model_slug>.zip` (one clip each).

    Prompts cycle through the demo's prompts that `model_slug` has a clip for (optionally only
    `only_prompts`). Raises ValueError when the demo has no usable clip.
    """
    suite_json = json.loads((demo_dir / "suite" / "suite.json").read_text())
    clip_dir = demo_dir / "clips" / model_slug
    sources = [
        prompt
        for prompt in suite_json["prompts"]
        if (clip_dir / f"{prompt['id']}.mp4").is_file() and (only_prompts is None or prompt["id"] in only_prompts)
    ]
    if not sources:
        raise ValueError(f"{demo_dir}: no clip of model {model_slug!r} for the chosen prompts")
    if clips < 1:
        raise ValueError("clips must be at least 1")
    suite_dir = out_dir / "suite"
    shutil.rmtree(suite_dir, ignore_errors=True)
    # The reference media (everything beside suite.json) keep their relative paths.
    shutil.copytree(demo_dir / "suite", suite_dir, ignore=shutil.ignore_patterns("suite.json"))
    prompts, source_of = [], {}
    for index in range(clips):
        source = sources[index % len(sources)]
        prompt = json.loads(json.dumps(source))
        prompt["id"] = f"{source['id']}-r{index // len(sources):02d}"
        prompts.append(prompt)
        source_of[prompt["id"]] = source["id"]
    suite_json.update(name=suite_name, version=suite_version, prompts=prompts)
    (suite_dir / "suite.json").write_text(json.dumps(suite_json, indent=2, ensure_ascii=False))
    archive = out_dir / f"{model_slug}.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        for prompt_id, source_id in source_of.items():
            info = zipfile.ZipInfo(f"{prompt_id}.mp4")
            info.compress_type = zipfile.ZIP_STORED  # MP4 is already compressed
            packed.writestr(info, (clip_dir / f"{source_id}.mp4").read_bytes())
    return SyntheticSubmission(suite_dir=suite_dir, archive=archive, prompt_ids=list(source_of), source_of=source_of)
