"""The rubric judge against a real local HTTP server that answers like an OpenAI-compatible chat endpoint and
checks every request it gets (path, key, model, messages, base64 JPEG frames, WAV audio for audio questions)."""

from __future__ import annotations

import base64
import io
import json
import threading
import wave
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.engine.engine_synth import SynthShot, make_clip, tone_track

from scoring.engine.config import EngineConfig, JudgeConfig
from scoring.engine.decode import decode_clip
from scoring.engine.judge import OpenAIChatJudge, parse_choice, rubric_metrics
from scoring.engine.metrics.base import FAILED, MEASURED, NOT_MEASURED
from scoring.engine.pipeline import score_clip
from scoring.engine.script import PromptScript, prompt_from_dict
from scoring.engine.segmentation import segment

KEY = "sk-test-123"


class FakeOpenAI(BaseHTTPRequestHandler):
    """Answers each question with the choice whose text the question's first word names ("pick C ..."),
    after checking the request the way an OpenAI-compatible server would."""

    requests: list[dict[str, Any]] = []
    problems: list[str] = []
    status = 200

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        problems = FakeOpenAI.problems
        if self.path != "/v1/chat/completions":
            problems.append(f"path {self.path}")
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            problems.append(f"auth {self.headers.get('Authorization')}")
        if body.get("model") != "judge-model":
            problems.append(f"model {body.get('model')}")
        system, user = body["messages"]
        if system["role"] != "system" or user["role"] != "user":
            problems.append("roles")
        text = next(part["text"] for part in user["content"] if part["type"] == "text")
        images = [part["image_url"]["url"] for part in user["content"] if part["type"] == "image_url"]
        audio = [part["input_audio"] for part in user["content"] if part["type"] == "input_audio"]
        sizes = []
        for url in images:
            if not url.startswith("data:image/jpeg;base64,"):
                problems.append("image is not a JPEG data URL")
                continue
            with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
                sizes.append(image.size)
        rates = []
        for part in audio:
            with wave.open(io.BytesIO(base64.b64decode(part["data"]))) as sound:
                rates.append((sound.getframerate(), sound.getnframes()))
        FakeOpenAI.requests.append({"text": text, "image_sizes": sizes, "audio": rates})
        if FakeOpenAI.status != 200:
            self.send_response(FakeOpenAI.status)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "model overloaded"}}')
            return
        question = text.split("Question: ", 1)[1]
        letter = question.split()[1]  # "pick C ..." -> "C"
        reply = {"choices": [{"index": 0, "message": {"role": "assistant", "content": f"{letter}."}}]}
        payload = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture()
def server() -> Iterator[str]:
    FakeOpenAI.requests, FakeOpenAI.problems, FakeOpenAI.status = [], [], 200
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def _script() -> PromptScript:
    q = lambda qid, metric, pick, answer, shots=(): {  # noqa: E731
        "id": qid, "metric": metric, "question": f"pick {pick} please", "choices": ["w", "x", "y", "z"],
        "answer": answer, "shots": list(shots),
    }
    shots = [
        {"start_s": 0.0, "end_s": 2.0, "caption": "a", "shot_scale": "medium", "camera_angle": "eye-level",
         "camera_motion": "pan", "transition_in": "none"},
        {"start_s": 2.0, "end_s": 4.0, "caption": "b", "shot_scale": "close-up", "camera_angle": "eye-level",
         "camera_motion": "static", "transition_in": "hard-cut"},
    ]
    return prompt_from_dict({
        "id": "judged", "category": "narrative", "style": "photo-realistic", "subject_realism": "real",
        "scene_realism": "real", "languages": [], "audio_classes": ["music"], "duration_s": 4.0,
        "script": "This video contains 2 shots.", "shots": shots,
        "rubric": [
            q("n1", "narrative", "A", 0), q("n2", "narrative", "B", 2),  # the judge picks B, the answer is C
            q("c1", "camera", "D", 3, shots=(2,)),
            q("a1", "audio", "B", 1, shots=(1,)),
        ],
    })


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("judge") / "judged.mp4"
    make_clip(path, [SynthShot("astronaut", 2.0, "pan"), SynthShot("coffee", 2.0, "static")], audio=tone_track(4.0))
    return path


def test_rubric_scores_from_a_real_http_judge(server: str, clip: Path) -> None:
    config = JudgeConfig(url=server, model="judge-model", api_key=KEY, frames_per_shot=2, max_frames=8, image_width=200)
    result = score_clip(clip, _script(), config=EngineConfig(use_expert_models=False, judge=config))
    assert FakeOpenAI.problems == []
    metrics = result.metrics
    assert metrics["rubric_narrative"].status == MEASURED and metrics["rubric_narrative"].value == pytest.approx(0.5)
    assert metrics["rubric_camera"].value == pytest.approx(1.0)
    assert metrics["rubric_audio"].value == pytest.approx(1.0)
    assert metrics["rubric_visual"].status == NOT_MEASURED and "no visual rubric" in metrics["rubric_visual"].reason
    assert metrics["rubric_narrative"].tool == "expert:judge:openai-chat:judge-model"
    rows = {row["id"]: row for row in metrics["rubric_narrative"].raw["questions"]}
    assert rows["n2"]["choice"] == 1 and rows["n2"]["correct"] is False
    by_text = {r["text"].split("Question: ")[1].split("\n")[0]: r for r in FakeOpenAI.requests}
    assert len(FakeOpenAI.requests) == 4
    # Whole-clip questions get frames of both shots (2 each), a one-shot question 2 frames, all downscaled.
    assert len(by_text["pick A please"]["image_sizes"]) == 4 and len(by_text["pick D please"]["image_sizes"]) == 2
    assert all(w == 200 for r in FakeOpenAI.requests for w, _ in r["image_sizes"])
    # Only the audio question carries the sound: 16 kHz WAV of its shot (2 s).
    assert by_text["pick A please"]["audio"] == []
    [(rate, frames)] = by_text["pick B please"]["audio"]
    assert rate == 16_000 and abs(frames - 32_000) < 1_600
    assert "This video contains 2 shots." in by_text["pick A please"]["text"]
    assert result.evidence["engine"]["config"]["judge"] == {"url": server, "model": "judge-model"}
    assert KEY not in json.dumps(result.to_dict())  # the key never reaches stored evidence


def test_judge_errors_and_absence(server: str, clip: Path) -> None:
    decoded = decode_clip(clip)
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    FakeOpenAI.status = 503
    broken = rubric_metrics(_script(), decoded, seg, JudgeConfig(url=server, model="judge-model", api_key=KEY))
    assert broken["rubric_narrative"].status == FAILED and "HTTP 503" in broken["rubric_narrative"].reason
    absent = rubric_metrics(_script(), decoded, seg, None)
    assert all(v.status == NOT_MEASURED and "no rubric judge configured" in v.reason for v in absent.values())
    closed = JudgeConfig(url="http://127.0.0.1:9/v1", model="m", timeout_s=2.0)
    unreachable = rubric_metrics(_script(), decoded, seg, closed)
    assert unreachable["rubric_camera"].status == FAILED and "unreachable" in unreachable["rubric_camera"].reason
    with pytest.raises(ValueError, match="http"):
        JudgeConfig(url="ftp://example.org", model="m")
    assert OpenAIChatJudge(JudgeConfig(url=server + "/chat/completions", model="m")).endpoint.endswith("/v1/chat/completions")


@pytest.mark.parametrize(
    ("reply", "choice"),
    [("B", 1), ("b.", 1), ("(C)", 2), ("Answer: D", 3), ("The answer is A", 0), ("2", 1), ("E", None), ("I think so", None)],
)
def test_parse_choice(reply: str, choice: int | None) -> None:
    assert parse_choice(reply, 4) == choice
