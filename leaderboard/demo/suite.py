"""The authored demo suite "msav-demo": 14 prompts in the suite format plus how each shot is staged."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from scoring.engine.script import (
    AUDIO_CLASSES,
    CAMERA_ANGLES,
    CAMERA_MOTIONS,
    CATEGORIES,
    REALISM_VALUES,
    SHOT_SCALES,
    TRANSITIONS,
    PromptScript,
    ReferenceSpec,
    RubricQuestion,
    ShotAudio,
    ShotScript,
    SuiteSpec,
)

from .photos import PHOTOS, STYLES

SUITE_NAME = "msav-demo"
SUITE_VERSION = "1.0"
SUITE_DESCRIPTION = (
    "Synthetic demo suite of MSAV Arena: 14 multi-shot audio-video prompts in the MSAVBench style "
    "covering the 8 genres, 2 to 15 shots, the four subject x scene realism combinations, six styles, "
    "five languages and reference-conditioned prompts. Pictures are the photographs that ship with "
    "scikit-image; voices and music are synthesised."
)


@dataclass(frozen=True)
class ShotDirection:
    """How the generator stages one scripted shot (not part of the suite format)."""

    photo: str  # key in photos.PHOTOS
    poi: str  # named point of interest the shot frames
    direction: str = ""  # camera move direction: left/right/up/down/in/out
    speaker: str = ""  # voice key of the spoken or sung line
    ambience: str = ""  # ambience bed under this shot ("" = the prompt's)
    silent: bool = False  # the script asks for silence here
    event: str = ""  # visual event kind the caption describes ("" = any of the prompt's kinds)


@dataclass(frozen=True)
class ReferenceSource:
    """Where a reference file's content comes from: a photo crop or a voice."""

    file: str
    kind: str
    source: str  # photo key for subject/scene, voice key for voice


@dataclass(frozen=True)
class PromptDirection:
    prompt_id: str
    shots: tuple[ShotDirection, ...]
    event_kinds: tuple[str, ...]  # visual events this prompt's shots may contain
    ambience: str = ""  # ambience bed kind, "" = none
    tempo_bpm: float = 0.0  # > 0 when the prompt has music
    music_style: str = ""
    music_key: int = 57  # MIDI root note
    references: tuple[ReferenceSource, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------- authoring helpers

_GENRE_PHRASE = {
    "action": "an action sequence",
    "tutorial": "a tutorial",
    "music": "a music video",
    "narrative": "a short narrative film",
    "dialogue": "a dialogue scene",
    "science_game": "a science and game video",
    "advertising": "an advertisement",
    "nature": "a nature documentary",
}
_LANGUAGE_NAME = {"en": "English", "es": "Spanish", "it": "Italian", "ja": "Japanese", "de": "German"}


@dataclass(frozen=True)
class _Shot:
    duration: float
    staging: ShotDirection
    scale: str
    angle: str
    motion: str
    transition: str
    caption: str
    lighting: str = ""
    emotion: str = ""
    language: str = ""
    dialogue: str = ""
    sound: str = ""
    text: str = ""


def _s(
    duration: float,
    photo: str,
    scale: str,
    angle: str,
    motion: str,
    transition: str,
    caption: str,
    *,
    direction: str = "",
    speaker: str = "",
    ambience: str = "",
    silent: bool = False,
    event: str = "",
    lighting: str = "",
    emotion: str = "",
    language: str = "",
    dialogue: str = "",
    sound: str = "",
    text: str = "",
) -> _Shot:
    key, _, poi = photo.partition(":")
    return _Shot(
        duration,
        ShotDirection(key, poi or next(iter(PHOTOS[key].pois)), direction, speaker, ambience, silent, event),
        scale,
        angle,
        motion,
        transition,
        caption,
        lighting,
        emotion,
        language,
        dialogue,
        sound,
        text,
    )


def _audio_phrase(classes: tuple[str, ...], languages: tuple[str, ...], music: str) -> str:
    names = " and ".join(_LANGUAGE_NAME[code] for code in languages)
    parts = []
    for cls in classes:
        if cls == "speech":
            parts.append(f"speech in {names}")
        elif cls == "singing":
            parts.append(f"singing in {names}")
        elif cls == "music":
            parts.append(f"{music} music")
        elif cls == "sfx":
            parts.append("sound effects")
        elif cls == "ambience":
            parts.append("ambient sound")
        elif cls == "silence":
            parts.append("a closing silence")
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def _prompt(
    pid: str,
    category: str,
    style: str,
    realism: tuple[str, str],
    languages: tuple[str, ...],
    audio_classes: tuple[str, ...],
    mood: str,
    synopsis: str,
    shots: list[_Shot],
    *,
    event_kinds: tuple[str, ...],
    ambience: str = "",
    tempo: float = 0.0,
    music: str = "",
    music_key: int = 57,
    references: tuple[tuple[str, str, str, tuple[int, ...], str], ...] = (),
    rubric: tuple[RubricQuestion, ...] = (),
) -> tuple[PromptScript, PromptDirection]:
    """Build one prompt: times accumulate from the shot durations; the script follows the paper's form."""
    t = 0.0
    scripts = []
    for index, shot in enumerate(shots, start=1):
        start, t = t, round(t + shot.duration, 3)
        audio = None
        if shot.emotion or shot.dialogue or shot.sound:
            audio = ShotAudio(emotion=shot.emotion, language=shot.language, dialogue=shot.dialogue, sound=shot.sound)
        scripts.append(
            ShotScript(
                index=index,
                start_s=start,
                end_s=t,
                caption=shot.caption,
                shot_scale=shot.scale,
                camera_angle=shot.angle,
                camera_motion=shot.motion,
                transition_in=shot.transition,
                lighting=shot.lighting,
                audio=audio,
                on_screen_text=shot.text,
            )
        )
    n = len(shots)
    script = (
        f"This video contains {n} shot{'s' if n != 1 else ''}; it is {_GENRE_PHRASE[category]} in a {style} style, "
        f"{mood}, accompanied by {_audio_phrase(audio_classes, languages, music)}. {synopsis}"
    )
    refs = tuple(ReferenceSpec(kind=k, file=f, name=name, shots=s) for k, f, name, s, _ in references)
    prompt = PromptScript(
        id=pid,
        category=category,
        style=style,
        subject_realism=realism[0],
        scene_realism=realism[1],
        languages=languages,
        audio_classes=audio_classes,
        duration_s=t,
        script=script,
        shots=tuple(scripts),
        references=refs,
        rubric=rubric,
    )
    direction = PromptDirection(
        prompt_id=pid,
        shots=tuple(shot.staging for shot in shots),
        event_kinds=event_kinds,
        ambience=ambience,
        tempo_bpm=tempo,
        music_style=music,
        music_key=music_key,
        references=tuple(ReferenceSource(f, k, src) for k, f, _, _, src in references),
    )
    return prompt, direction


def _q(qid: str, metric: str, question: str, choices: tuple[str, ...], answer: int, shots: tuple[int, ...] = ()) -> RubricQuestion:
    return RubricQuestion(id=qid, metric=metric, question=question, choices=choices, answer=answer, shots=shots)


RR, RN, NR, NN = ("real", "real"), ("real", "non-real"), ("non-real", "real"), ("non-real", "non-real")


def _authored() -> list[tuple[PromptScript, PromptDirection]]:
    return [
        _prompt(
            "action-001", "action", "photo-realistic", RR, (), ("sfx", "music", "ambience"),
            "fast and loud",
            "A red motorcycle is fired up in a cluttered garage and roars out past brick walls, gravel and grass.",
            [
                _s(1.75, "motorcycle:bike", "long", "eye-level", "static", "none",
                   "A red motorcycle stands in a cluttered garage between wooden shelves and cardboard boxes.",
                   lighting="dim tungsten work light", sound="garage hum, a wrench clanks on the floor"),
                _s(1.5, "motorcycle:engine", "extreme-close-up", "low", "handheld", "hard-cut",
                   "Extreme close-up of the chrome engine block shaking as it fires; a spark flashes.",
                   emotion="tense", sound="ignition crack and engine roar", event="flash"),
                _s(1.75, "brick:wall", "close-up", "eye-level", "pan", "hard-cut",
                   "The camera pans along a grey brick wall as the engine noise echoes off it.",
                   direction="right", sound="engine echo, a thump as the bike hits a kerb", event="jump"),
                _s(1.5, "gravel:pebbles", "extreme-close-up", "overhead", "handheld", "hard-cut",
                   "Overhead close-up of gravel jolting under the rear tyre.",
                   sound="gravel crunch", event="jump"),
                _s(1.75, "grass:blades", "medium", "low", "tracking", "hard-cut",
                   "Low tracking shot of the grass verge whipping past at speed.",
                   direction="left", sound="wind rush, engine fading"),
                _s(1.75, "motorcycle:wheel", "medium", "eye-level", "zoom", "hard-cut",
                   "The camera zooms out from the front wheel to reveal the whole motorcycle back on its stand.",
                   direction="out", emotion="relieved", sound="engine ticking as it cools"),
            ],
            event_kinds=("jump", "flash"), ambience="room", tempo=128, music="driving rock", music_key=52,
            rubric=(
                _q("q1", "camera", "How does the camera move in the last shot?",
                   ("it zooms out", "it pans left", "it stays still"), 0, (6,)),
            ),
        ),
        _prompt(
            "action-002", "action", "retro", RR, ("en",), ("speech", "sfx", "silence"),
            "tense, then awed",
            "An archival-looking launch: the countdown ends, the rocket lifts off, and the picture drifts into silent space.",
            [
                _s(2.5, "rocket:rocket", "long", "low", "static", "none",
                   "Night view of the rocket on its launch pad between lattice towers, floodlights glowing at its base.",
                   speaker="controller", lighting="floodlights against a deep blue sky",
                   emotion="tense", language="en", dialogue="Three, two, one, ignition.", sound="ignition flash and roar",
                   event="flash"),
                _s(2.5, "rocket:lights", "close-up", "low", "tilt", "hard-cut",
                   "The camera tilts up from the blazing floodlights at the base of the rocket.",
                   direction="up", emotion="powerful", sound="rumble of the engines, the tower clanks"),
                _s(2.5, "hubble:centre", "extreme-long", "eye-level", "zoom", "fade",
                   "The picture fades to a deep field of distant galaxies; nothing can be heard.",
                   direction="in", silent=True, emotion="awed", sound="silence"),
            ],
            event_kinds=("flash", "jump"),
        ),
        _prompt(
            "tutorial-001", "tutorial", "photo-realistic", RR, ("en",), ("speech", "sfx"),
            "friendly and clear",
            "A barista explains, step by step, how to serve an espresso.",
            [
                _s(3.0, "coffee:table", "long", "overhead", "static", "none",
                   "Overhead view of a red espresso cup on its saucer on a wooden table.",
                   speaker="barista", lighting="warm morning light",
                   emotion="friendly", language="en", dialogue="Start with a warm cup and a fresh shot of espresso.",
                   sound="a soft chime as each step is marked"),
                _s(3.0, "coffee:crema", "close-up", "high", "zoom", "hard-cut",
                   "The camera zooms in on the golden crema on top of the coffee.",
                   direction="in", speaker="barista", emotion="enthusiastic", language="en",
                   dialogue="Look for a thick golden crema.", text="STEP 2: CHECK THE CREMA"),
                _s(3.0, "coffee:spoon", "extreme-close-up", "high", "pan", "hard-cut",
                   "A slow pan across the silver spoon resting on the saucer.",
                   direction="left", speaker="barista", emotion="calm", language="en",
                   dialogue="Rest the spoon on the saucer, handle to the right.", sound="spoon clinks on the saucer"),
                _s(3.0, "coffee:cup", "medium", "eye-level", "dolly", "dissolve",
                   "The camera dollies back to show the whole cup and saucer, ready to serve.",
                   direction="out", speaker="barista", emotion="proud", language="en",
                   dialogue="And that is a perfect espresso."),
            ],
            event_kinds=("pop",),
            references=(("voice", "references/tutorial-001-barista.wav", "the barista's voice", (), "barista"),),
            rubric=(
                _q("q1", "visual", "What is in the cup?", ("espresso with crema", "green tea", "milk"), 0, (2,)),
                _q("q2", "narrative", "What is the last step shown?",
                   ("the cup is ready to serve", "beans are ground", "milk is steamed"), 0, (4,)),
            ),
        ),
        _prompt(
            "music-001", "music", "retro", RN, ("es",), ("singing", "music"),
            "dreamy and nostalgic",
            "A retro music video: an astronaut sings a slow Spanish ballad while drifting through a dream of colour and stars.",
            [
                _s(1.5, "astronaut:face", "medium", "eye-level", "static", "none",
                   "The astronaut in her orange flight suit smiles at the camera in front of the flag.",
                   speaker="singer", emotion="tender", language="es", dialogue="Volaré sobre la luna",
                   sound="soft synth chords and a slow beat"),
                _s(1.5, "colorwheel:centre", "extreme-long", "eye-level", "zoom", "dissolve",
                   "A soft golden glow swirls like a nebula.", direction="in"),
                _s(1.5, "astronaut:face", "close-up", "eye-level", "dolly", "dissolve",
                   "Close-up of the astronaut's face as she sings.",
                   direction="in", speaker="singer", emotion="longing", language="es", dialogue="contigo entre estrellas"),
                _s(1.5, "hubble:spiral", "extreme-long", "high", "pan", "dissolve",
                   "Countless galaxies drift past in the deep field.", direction="right"),
                _s(1.5, "astronaut:patch", "close-up", "low", "static", "dissolve",
                   "The mission patch on her suit glints as she lifts her chin.",
                   speaker="singer", emotion="hopeful", language="es", dialogue="brillando sin final"),
                _s(1.5, "colorwheel:centre", "long", "eye-level", "zoom", "dissolve",
                   "The glow blooms into a bright wheel of light.", direction="out"),
                _s(1.5, "astronaut:face", "medium", "low", "tilt", "dissolve",
                   "She looks towards the shuttle model as the chorus rises.",
                   direction="up", speaker="singer", emotion="joyful", language="es", dialogue="volaré, volaré"),
                _s(1.5, "astronaut:helmet", "long", "eye-level", "zoom", "fade",
                   "The picture fades through black to her white helmet resting on the table.", direction="out"),
            ],
            event_kinds=("flash",), tempo=96, music="slow retro synth", music_key=57,
            references=(("subject", "references/music-001-astronaut.png", "the astronaut", (1, 3, 5, 7), "astronaut"),),
        ),
        _prompt(
            "music-002", "music", "pixel", NN, (), ("music", "sfx"),
            "bouncy and playful",
            "An 8-bit chiptune music video: a shadow horse gallops through a pixel world of grass, bricks and a rainbow sun.",
            [
                _s(1.25, "horse:body", "long", "eye-level", "pan", "none",
                   "A black pixel horse silhouette gallops across a white screen.", direction="right",
                   sound="chiptune melody, a coin blip on each jump"),
                _s(1.0, "grass:blades", "close-up", "low", "tracking", "hard-cut",
                   "Pixelated grass scrolls past beneath its hooves.", direction="left"),
                _s(1.0, "horse:head", "close-up", "eye-level", "static", "hard-cut",
                   "Close-up of the horse's blocky head, ears pricked."),
                _s(1.25, "brick:wall", "medium", "eye-level", "pan", "hard-cut",
                   "A wall of grey pixel bricks slides by like a game level.", direction="left"),
                _s(1.0, "colorwheel:centre", "extreme-long", "eye-level", "zoom", "hard-cut",
                   "A rainbow pixel sun rises.", direction="in"),
                _s(1.0, "horse:body", "medium", "low", "tracking", "hard-cut",
                   "The horse leaps, frozen mid-air against the white sky.", direction="right"),
                _s(1.25, "gravel:pebbles", "extreme-close-up", "overhead", "handheld", "wipe",
                   "A wipe reveals a field of chunky grey pixel pebbles."),
                _s(1.0, "coins:tray", "long", "high", "static", "hard-cut",
                   "Rows of pixel coins wait to be collected."),
                _s(1.0, "horse:head", "extreme-close-up", "eye-level", "zoom", "hard-cut",
                   "The camera zooms onto the horse's eye.", direction="in"),
                _s(1.25, "colorwheel:centre", "long", "eye-level", "handheld", "hard-cut",
                   "The rainbow sun pulses with the beat."),
                _s(1.0, "grass:blades", "medium", "high", "tilt", "hard-cut",
                   "The camera tilts over the pixel meadow.", direction="down"),
                _s(1.0, "horse:body", "extreme-long", "eye-level", "zoom", "hard-cut",
                   "The horse stands still as the camera pulls away to end the level.", direction="out"),
            ],
            event_kinds=("flash", "pop"), tempo=140, music="chiptune", music_key=60,
        ),
        _prompt(
            "narrative-001", "narrative", "photo-realistic", RR, ("en",), ("speech", "music", "ambience"),
            "warm and reflective",
            "A day in the life of an astronaut, told in fifteen quick shots from the morning coffee to the stars.",
            [
                _s(1.0, "astronaut:face", "medium", "eye-level", "static", "none",
                   "The astronaut smiles in her orange flight suit.",
                   speaker="narrator", emotion="warm", language="en", dialogue="This is her day.",
                   sound="gentle piano and strings"),
                _s(1.0, "coffee:cup", "close-up", "high", "zoom", "hard-cut",
                   "A red cup of espresso waits on a wooden table.", direction="in"),
                _s(1.0, "camera:face", "medium", "eye-level", "static", "hard-cut",
                   "A photographer squints through his camera on a tripod."),
                _s(1.0, "rocket:rocket", "long", "low", "tilt", "hard-cut",
                   "The rocket waits on the pad under floodlights.",
                   direction="up", speaker="narrator", emotion="proud", language="en", dialogue="The rocket waits."),
                _s(1.0, "moon:crater", "extreme-close-up", "overhead", "pan", "hard-cut",
                   "Grey craters of the lunar surface.", direction="right"),
                _s(1.0, "hubble:centre", "long", "eye-level", "zoom", "dissolve",
                   "Thousands of galaxies glitter in the deep field.", direction="in"),
                _s(1.0, "motorcycle:bike", "long", "eye-level", "static", "hard-cut",
                   "A red motorcycle stands in a garage, her ride to work."),
                _s(1.0, "astronaut:face", "close-up", "eye-level", "dolly", "hard-cut",
                   "Close-up of the astronaut looking up.",
                   direction="in", speaker="narrator", emotion="tender", language="en", dialogue="She looks up."),
                _s(1.0, "astronaut:shuttle", "close-up", "eye-level", "static", "hard-cut",
                   "The shuttle model on the shelf beside her."),
                _s(1.0, "coins:tray", "long", "high", "pan", "hard-cut",
                   "A tray of old coins on a dark cloth.", direction="left"),
                _s(1.0, "retina:centre", "extreme-long", "eye-level", "static", "hard-cut",
                   "An orange retina scan from her medical check."),
                _s(1.0, "camera:tripod", "close-up", "low", "tilt", "hard-cut",
                   "The tripod's legs stand on the lawn.",
                   direction="down", speaker="narrator", emotion="calm", language="en", dialogue="Tonight she flies."),
                _s(1.0, "rocket:lights", "close-up", "low", "handheld", "hard-cut",
                   "Floodlights at the base of the rocket flare."),
                _s(1.0, "hubble:spiral", "close-up", "eye-level", "zoom", "hard-cut",
                   "The camera zooms into a spiral galaxy.", direction="in"),
                _s(1.0, "astronaut:wide", "long", "eye-level", "static", "dissolve",
                   "The astronaut, framed wide beside her helmet, waves goodbye.",
                   speaker="narrator", emotion="hopeful", language="en", dialogue="Goodbye, Earth."),
            ],
            event_kinds=("pop", "flash"), ambience="room", tempo=84, music="gentle piano", music_key=55,
            references=(("subject", "references/narrative-001-astronaut.png", "the astronaut", (1, 8, 15), "astronaut"),),
            rubric=(
                _q("q1", "narrative", "What does the astronaut do in the last shot?",
                   ("she waves goodbye", "she drinks coffee", "she rides a motorcycle"), 0, (15,)),
                _q("q2", "layout", "How many people appear in shot 3?", ("one", "two", "none"), 0, (3,)),
            ),
        ),
        _prompt(
            "narrative-002", "narrative", "watercolor", NR, ("it",), ("speech", "ambience", "sfx"),
            "gentle and whimsical",
            "A storybook tale: a talking cat dreams of flying to the Moon.",
            [
                _s(2.0, "chelsea:face", "close-up", "eye-level", "static", "none",
                   "A tabby cat with green eyes looks straight at us.",
                   speaker="cat_it", emotion="dreamy", language="it", dialogue="Un giorno volerò sulla Luna.",
                   sound="soft wind, a bell tinkles"),
                _s(1.75, "moon:surface", "extreme-long", "high", "pan", "hard-cut",
                   "The grey cratered surface of the Moon drifts by.", direction="left", ambience="wind"),
                _s(1.75, "chelsea:eyes", "extreme-close-up", "eye-level", "zoom", "dissolve",
                   "The cat's eyes widen as it dreams.",
                   direction="in", speaker="cat_it", emotion="excited", language="it", dialogue="Mi serve solo un razzo."),
                _s(1.75, "rocket:rocket", "long", "low", "tilt", "hard-cut",
                   "A rocket stands ready under the night sky.", direction="up"),
                _s(1.75, "chelsea:face", "medium", "eye-level", "handheld", "fade",
                   "The cat settles down, purring, as the story ends.",
                   speaker="cat_it", emotion="sleepy", language="it", dialogue="Domani, forse."),
            ],
            event_kinds=("pop",), ambience="room",
            rubric=(
                _q("q1", "narrative", "What does the cat dream of?",
                   ("flying to the Moon", "catching a mouse", "a bowl of milk"), 0, (1, 3)),
            ),
        ),
        _prompt(
            "dialogue-001", "dialogue", "photo-realistic", RR, ("en",), ("speech", "ambience", "sfx"),
            "calm and warm",
            "Before the launch, a press photographer and an astronaut trade a few words while he takes her portrait.",
            [
                _s(2.5, "astronaut:face", "close-up", "eye-level", "static", "none",
                   "Close-up of the smiling astronaut in her orange suit, a flag behind her.",
                   speaker="astronaut", lighting="soft studio light",
                   emotion="cheerful", language="en", dialogue="Good morning! Is the camera ready?"),
                _s(2.5, "camera:face", "medium", "eye-level", "static", "hard-cut",
                   "Medium shot of a photographer in a dark coat looking through a camera on a tripod.",
                   speaker="photographer", emotion="focused", language="en", dialogue="Almost. Hold that smile for me.",
                   sound="wind over the lawn"),
                _s(2.0, "astronaut:face", "medium", "eye-level", "dolly", "hard-cut",
                   "The astronaut laughs and tilts her head.",
                   direction="in", speaker="astronaut", emotion="amused", language="en", dialogue="Like this?"),
                _s(2.5, "camera:tripod", "close-up", "low", "handheld", "hard-cut",
                   "Low close-up of the camera on its tripod; the flash fires as he presses the shutter.",
                   speaker="photographer", emotion="pleased", language="en", dialogue="Perfect. One more.",
                   sound="shutter click with each flash", event="flash"),
                _s(2.5, "astronaut:wide", "long", "eye-level", "static", "hard-cut",
                   "Wide shot of the astronaut beside the shuttle model and her helmet.",
                   speaker="astronaut", emotion="excited", language="en", dialogue="Then let's go to space."),
            ],
            event_kinds=("flash", "pop"), ambience="room",
            references=(
                ("subject", "references/dialogue-001-astronaut.png", "the astronaut", (1, 3, 5), "astronaut"),
                ("voice", "references/dialogue-001-astronaut.wav", "the astronaut's voice", (1, 3, 5), "astronaut"),
                ("voice", "references/dialogue-001-photographer.wav", "the photographer's voice", (2, 4), "photographer"),
            ),
            rubric=(
                _q("q1", "narrative", "Who speaks first?", ("the astronaut", "the photographer", "nobody"), 0, (1, 2)),
                _q("q2", "camera", "How is the second shot framed?", ("extreme long", "medium", "extreme close-up"), 1, (2,)),
            ),
        ),
        _prompt(
            "dialogue-002", "dialogue", "anime", NR, ("ja",), ("speech", "ambience", "sfx"),
            "comic and lively",
            "In an anime café, a talking cat argues with the owner about its morning coffee.",
            [
                _s(2.5, "chelsea:face", "close-up", "eye-level", "static", "none",
                   "Anime-style close-up of a tabby cat glaring with its green eyes.",
                   speaker="cat_ja", emotion="impatient", language="ja", dialogue="コーヒーはまだですか?"),
                _s(2.5, "coffee:cup", "medium", "high", "zoom", "hard-cut",
                   "A red espresso cup waits on its saucer; the owner answers off-screen.",
                   direction="in", speaker="owner_ja", emotion="polite", language="ja", dialogue="はい、どうぞ。熱いですよ。",
                   sound="cup set down with a clack"),
                _s(2.5, "chelsea:nose", "extreme-close-up", "low", "handheld", "hard-cut",
                   "The cat sniffs the air, whiskers twitching.",
                   speaker="cat_ja", emotion="delighted", language="ja", dialogue="いい香りだ!"),
                _s(2.5, "coffee:spoon", "close-up", "overhead", "pan", "dissolve",
                   "Overhead close-up of the spoon beside the cup as lapping sounds follow.",
                   direction="right", sound="lapping, café murmur"),
            ],
            event_kinds=("pop",), ambience="cafe",
            references=(
                ("subject", "references/dialogue-002-cat.png", "the cat", (1, 3), "chelsea"),
                ("voice", "references/dialogue-002-cat.wav", "the cat's voice", (1, 3), "cat_ja"),
            ),
        ),
        _prompt(
            "science-001", "science_game", "photo-realistic", RR, ("en",), ("speech", "music", "sfx"),
            "curious and calm",
            "An explainer that travels from cells in a tissue sample to the deepest image of the universe.",
            [
                _s(1.75, "cells:centre", "extreme-close-up", "overhead", "static", "none",
                   "Brown-stained cells form rings in a tissue sample under the microscope.",
                   speaker="explainer", emotion="curious", language="en", dialogue="Everything starts small.",
                   sound="a soft chime as each label appears"),
                _s(1.75, "retina:disc", "close-up", "eye-level", "pan", "hard-cut",
                   "The optic disc glows at the back of a human eye.",
                   direction="right", speaker="explainer", emotion="calm", language="en", dialogue="Your eye catches light."),
                _s(1.75, "retina:centre", "long", "eye-level", "zoom", "dissolve",
                   "The whole retina appears, its blood vessels branching like rivers.", direction="out"),
                _s(1.5, "coins:tray", "long", "high", "static", "hard-cut",
                   "Rows of ancient coins, stamped with the skies people once watched."),
                _s(1.75, "moon:crater", "extreme-close-up", "overhead", "tilt", "hard-cut",
                   "Craters scar the grey lunar surface.",
                   direction="down", speaker="explainer", emotion="calm", language="en", dialogue="The Moon is our neighbour."),
                _s(1.75, "rocket:rocket", "long", "low", "zoom", "hard-cut",
                   "A rocket waits to carry telescopes into orbit.", direction="in"),
                _s(1.75, "hubble:centre", "extreme-long", "eye-level", "zoom", "dissolve",
                   "The Hubble deep field: thousands of galaxies in a tiny patch of sky.",
                   direction="out", speaker="explainer", emotion="awed", language="en", dialogue="And this is almost everything."),
            ],
            event_kinds=("pop",), tempo=100, music="ambient synth", music_key=50,
            rubric=(
                _q("q1", "visual", "What does the final shot show?", ("many galaxies", "a cat", "a cup of coffee"), 0, (7,)),
                _q("q2", "audio", "Who speaks?", ("one calm narrator", "two people arguing", "a choir"), 0),
            ),
        ),
        _prompt(
            "science-002", "science_game", "cyberpunk", NN, (), ("music", "sfx"),
            "frantic and neon",
            "A neon video game: a nano-ship defends a glowing alien planet from waves of mutant microbes.",
            [
                _s(1.25, "retina:centre", "extreme-long", "eye-level", "zoom", "none",
                   "A glowing alien planet veined with neon rivers fills the screen.", direction="in",
                   sound="synth bass pulse, laser zaps"),
                _s(1.25, "cells:centre", "close-up", "overhead", "pan", "hard-cut",
                   "A swarm of ringed mutant microbes glows magenta.", direction="left"),
                _s(1.25, "colorwheel:centre", "medium", "eye-level", "zoom", "hard-cut",
                   "A spinning power-up core blazes with every colour.", direction="in"),
                _s(1.25, "hubble:spiral", "extreme-long", "eye-level", "pan", "hard-cut",
                   "The star map scrolls as the nano-ship warps between galaxies.", direction="right"),
                _s(1.25, "gravel:pebbles", "close-up", "overhead", "handheld", "hard-cut",
                   "An asteroid field of neon-lit rocks shakes under fire."),
                _s(1.25, "cells:ring", "extreme-close-up", "overhead", "zoom", "hard-cut",
                   "A single microbe ring bursts under a laser blast.", direction="in"),
                _s(1.25, "retina:disc", "close-up", "eye-level", "static", "dissolve",
                   "The planet's glowing core pulses, safe for now."),
                _s(1.25, "coins:tray", "long", "high", "tilt", "hard-cut",
                   "Rows of neon credits pour into the score bank.", direction="down"),
                _s(1.0, "colorwheel:centre", "extreme-long", "eye-level", "zoom", "hard-cut",
                   "The core explodes into a rainbow victory screen.", direction="out"),
            ],
            event_kinds=("flash", "pop"), tempo=150, music="synthwave", music_key=45,
            rubric=(
                _q("q1", "narrative", "What is the player defending?",
                   ("a glowing planet", "a motorcycle", "a coffee cup"), 0),
            ),
        ),
        _prompt(
            "advert-001", "advertising", "cyberpunk", RN, ("en",), ("speech", "music", "sfx"),
            "bold and energetic",
            "A neon advert for a red motorcycle in a city that does not exist.",
            [
                _s(3.0, "motorcycle:bike", "medium", "low", "tracking", "none",
                   "The red motorcycle glows under magenta and cyan neon in a garage of a future city.",
                   direction="right", speaker="announcer", lighting="neon signs",
                   emotion="confident", language="en", dialogue="Built for streets that never sleep.",
                   sound="synth riff"),
                _s(2.5, "motorcycle:engine", "extreme-close-up", "eye-level", "pan", "hard-cut",
                   "Neon light runs along the chrome engine as it revs.",
                   direction="left", sound="engine rev with each light flash", event="flash"),
                _s(2.5, "motorcycle:wheel", "long", "eye-level", "zoom", "wipe",
                   "A wipe reveals the whole motorcycle with the slogan glowing beneath it.",
                   direction="out", speaker="announcer", emotion="bold", language="en", dialogue="Ride the night.",
                   text="RIDE THE NIGHT"),
            ],
            event_kinds=("flash",), tempo=120, music="synthwave", music_key=48,
            references=(("subject", "references/advert-001-motorcycle.png", "the motorcycle", (1, 3), "motorcycle"),),
        ),
        _prompt(
            "advert-002", "advertising", "watercolor", RR, ("de",), ("speech", "music"),
            "gentle and cosy",
            "A watercolour advert for a café's espresso.",
            [
                _s(3.0, "coffee:cup", "close-up", "high", "static", "none",
                   "A watercolour espresso cup with golden crema sits on a wooden table.",
                   speaker="voice_de", lighting="soft window light",
                   emotion="warm", language="de", dialogue="Kaffee, langsam gebrüht.", sound="soft acoustic guitar"),
                _s(3.0, "coffee:spoon", "extreme-close-up", "high", "dolly", "dissolve",
                   "The picture dissolves to the silver spoon resting on the red saucer.",
                   direction="in", speaker="voice_de", emotion="cosy", language="de", dialogue="Für deinen Morgen."),
            ],
            event_kinds=("pop",), tempo=90, music="acoustic", music_key=55,
            references=(("scene", "references/advert-002-cafe-table.png", "the café table", (1, 2), "coffee"),),
        ),
        _prompt(
            "nature-001", "nature", "photo-realistic", RR, (), ("ambience", "sfx"),
            "quiet and observant",
            "A quiet documentary from a meadow at dawn to the surface of the Moon and the stars at night.",
            [
                _s(1.25, "grass:blades", "long", "eye-level", "static", "none",
                   "Blades of grass fill the frame at dawn.", ambience="birds",
                   lighting="grey dawn light", sound="birdsong, a twig snaps"),
                _s(1.25, "horse:body", "long", "eye-level", "pan", "hard-cut",
                   "A horse stands in black silhouette against white morning fog.", direction="right", ambience="birds"),
                _s(1.25, "gravel:pebbles", "extreme-close-up", "overhead", "static", "hard-cut",
                   "Wet pebbles on a gravel path.", ambience="birds"),
                _s(1.25, "chelsea:face", "close-up", "eye-level", "tracking", "hard-cut",
                   "A tabby cat peers out, alert.", direction="left", ambience="birds"),
                _s(1.25, "brick:wall", "medium", "eye-level", "pan", "hard-cut",
                   "Light crawls across an old brick wall.", direction="right", ambience="wind"),
                _s(1.25, "horse:head", "close-up", "eye-level", "static", "hard-cut",
                   "Close-up of the horse's head as it lifts its ears.", ambience="wind"),
                _s(1.25, "grass:blades", "extreme-close-up", "low", "handheld", "dissolve",
                   "The wind ruffles the grass.", ambience="wind"),
                _s(1.25, "gravel:pebbles", "long", "high", "zoom", "hard-cut",
                   "A gravel bank stretches away towards the water.", direction="out", ambience="wind"),
                _s(1.25, "chelsea:eyes", "extreme-close-up", "eye-level", "static", "hard-cut",
                   "The cat's green eyes reflect the evening light.", ambience="wind"),
                _s(1.25, "moon:surface", "extreme-long", "high", "tilt", "fade",
                   "Night falls; the camera tilts across the grey craters of the Moon.", direction="down", ambience="night"),
                _s(1.5, "hubble:centre", "extreme-long", "eye-level", "zoom", "dissolve",
                   "Beyond the Moon, countless galaxies glitter in the dark.", direction="in", ambience="night"),
            ],
            event_kinds=("pop", "flash"), ambience="birds",
            rubric=(
                _q("q1", "visual", "Which animal appears in silhouette?", ("a horse", "a cat", "a bird"), 0, (2,)),
            ),
        ),
    ]


@lru_cache(maxsize=1)
def demo_prompts() -> tuple[tuple[PromptScript, PromptDirection], ...]:
    """Every demo prompt with its staging, validated against the suite vocabularies."""
    entries = tuple(_authored())
    for prompt, direction in entries:
        _check(prompt, direction)
    return entries


def prompt_ids() -> tuple[str, ...]:
    return tuple(p.id for p, _ in demo_prompts())


def get_prompt(prompt_id: str) -> tuple[PromptScript, PromptDirection]:
    for prompt, direction in demo_prompts():
        if prompt.id == prompt_id:
            return prompt, direction
    raise KeyError(f"unknown demo prompt {prompt_id!r}; known: {', '.join(prompt_ids())}")


def demo_suite(ids: list[str] | tuple[str, ...] | None = None) -> SuiteSpec:
    """The demo suite, or the part of it holding the given prompt ids (in suite order)."""
    chosen = set(ids) if ids is not None else None
    prompts = tuple(p for p, _ in demo_prompts() if chosen is None or p.id in chosen)
    return SuiteSpec(name=SUITE_NAME, version=SUITE_VERSION, description=SUITE_DESCRIPTION, prompts=prompts)


def suite_to_dict(suite: SuiteSpec) -> dict[str, Any]:
    return {
        "name": suite.name,
        "version": suite.version,
        "description": suite.description,
        "prompts": [p.to_dict() for p in suite.prompts],
    }


def _check(prompt: PromptScript, direction: PromptDirection) -> None:
    """Fail loudly at import time if the authored data strays outside the lead's vocabularies."""
    where = f"demo prompt {prompt.id}"
    assert prompt.category in CATEGORIES, where
    assert prompt.subject_realism in REALISM_VALUES and prompt.scene_realism in REALISM_VALUES, where
    assert prompt.style in STYLES, where
    assert all(c in AUDIO_CLASSES for c in prompt.audio_classes), where
    assert len(direction.shots) == len(prompt.shots), where
    previous_end = 0.0
    for shot, staging in zip(prompt.shots, direction.shots):
        assert shot.shot_scale in SHOT_SCALES, (where, shot.index)
        assert shot.camera_angle in CAMERA_ANGLES, (where, shot.index)
        assert shot.camera_motion in CAMERA_MOTIONS, (where, shot.index)
        assert shot.transition_in in TRANSITIONS, (where, shot.index)
        assert (shot.transition_in == "none") == (shot.index == 1), (where, shot.index)
        assert shot.start_s == previous_end and shot.end_s > shot.start_s, (where, shot.index)
        assert staging.photo in PHOTOS and staging.poi in PHOTOS[staging.photo].pois, (where, shot.index)
        previous_end = shot.end_s
    assert abs(previous_end - prompt.duration_s) < 1e-9, where
