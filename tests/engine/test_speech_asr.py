"""WER through an OpenAI-compatible transcription endpoint, tested against a real HTTP server started
here; without a configured backend WER is "not measured", and a failing backend says why."""

from __future__ import annotations

import json
import threading
import wave
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import pytest

from scoring.engine.asr import error_rate, normalise_text, transcriptions_url, wer_metric
from scoring.engine.config import AsrConfig
from scoring.engine.metrics.base import FAILED, MEASURED, NOT_MEASURED
from scoring.engine.speech import speech_activity
from tests.engine.audio_synth import LINES, decoded_from_audio, normalise, script_for, speech_track

SECONDS = 6.0


class Transcriber(BaseHTTPRequestHandler):
    """Answers POST /v1/audio/transcriptions like an OpenAI-compatible server; records what it got."""

    answer = ""
    status = 200
    seen: list[dict[str, object]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        message = BytesParser(policy=default).parsebytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
        )
        parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        audio = parts["file"].get_payload(decode=True)
        with wave.open(BytesIO(audio)) as wav:
            seconds = wav.getnframes() / wav.getframerate()
            rate = wav.getframerate()
        Transcriber.seen.append(
            {
                "path": self.path,
                "model": parts["model"].get_content().strip(),
                "language": parts["language"].get_content().strip() if "language" in parts else None,
                "authorization": self.headers.get("Authorization"),
                "seconds": seconds,
                "rate": rate,
            }
        )
        payload = json.dumps({"text": Transcriber.answer} if Transcriber.status == 200 else {"error": "overloaded"})
        self.send_response(Transcriber.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    Transcriber.seen, Transcriber.status = [], 200
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Transcriber)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def decoded():  # type: ignore[no-untyped-def]
    return decoded_from_audio(normalise(speech_track(SECONDS), -22.0))


def test_wer_through_the_backend(server: str, decoded) -> None:  # type: ignore[no-untyped-def]
    script = script_for(SECONDS)
    reference = " ".join(LINES[:2])
    Transcriber.answer = reference.replace("golden", "olden").upper()  # one word wrong, case ignored
    config = AsrConfig(url=server, model="whisper-large-v3", api_key="secret-key")
    metric = wer_metric(decoded, script, speech_activity(decoded), config)
    assert metric.status == MEASURED, metric.reason
    words = len(normalise_text(reference).split())
    assert metric.raw["error_rate"] == pytest.approx(1 / words, abs=1e-4)
    assert metric.value == pytest.approx(1 - 1 / words, abs=1e-4)
    assert metric.tool == "asr:openai-compatible-transcriptions:whisper-large-v3"
    (request,) = Transcriber.seen
    assert request["path"] == "/v1/audio/transcriptions" and request["model"] == "whisper-large-v3"
    assert request["language"] == "en" and request["authorization"] == "Bearer secret-key"
    assert request["rate"] == 16_000 and request["seconds"] == pytest.approx(SECONDS, abs=0.1)


def test_a_failing_backend_fails_the_metric_with_the_reason(server: str, decoded) -> None:  # type: ignore[no-untyped-def]
    Transcriber.status = 503
    metric = wer_metric(decoded, script_for(SECONDS), None, AsrConfig(url=server))
    assert metric.status == FAILED and "HTTP 503" in metric.reason and "/v1/audio/transcriptions" in metric.reason
    unreachable = wer_metric(decoded, script_for(SECONDS), None, AsrConfig(url="http://127.0.0.1:9/v1", timeout_s=2))
    assert unreachable.status == FAILED and "not reachable" in unreachable.reason


def test_without_a_backend_wer_is_not_measured(decoded) -> None:  # type: ignore[no-untyped-def]
    metric = wer_metric(decoded, script_for(SECONDS), None, None)
    assert metric.status == NOT_MEASURED and metric.value is None and "ASR" in metric.reason
    no_dialogue = script_for(SECONDS, audio_classes=("music",), dialogue=False)
    assert wer_metric(decoded, no_dialogue, None, AsrConfig(url="http://127.0.0.1:9")).status == NOT_MEASURED


def test_error_rates() -> None:
    assert error_rate("Hello, world!", "hello world") == 0.0
    assert error_rate("a b c d", "a x c") == pytest.approx(0.5)  # one substitution, one deletion
    assert error_rate("いい香りだ", "いい香りだね", by_characters=True) == pytest.approx(0.2)
    assert transcriptions_url("http://h/v1/") == "http://h/v1/audio/transcriptions"
    assert transcriptions_url("http://h/v1/audio/transcriptions") == "http://h/v1/audio/transcriptions"
