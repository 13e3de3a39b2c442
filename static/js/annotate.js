/* The annotator's page: fetch a task, play both clips in sync (one heard), unlock votes once both clips
   have been watched through, submit every dimension at once and load the next task straight away.
   Everything is reachable from the keyboard; the shortcuts are listed on the page. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("annotate-config").textContent);
  const csrf = document.querySelector("#annotate input[name=csrfmiddlewaretoken]").value;
  const $ = (id) => document.getElementById(id);
  const videos = { a: $("clip-a"), b: $("clip-b") };
  const OUTCOMES = [
    { value: "a", label: "A better", key: "A" },
    { value: "b", label: "B better", key: "B" },
    { value: "both_good", label: "Both good", key: "G" },
    { value: "both_bad", label: "Both bad", key: "N" },
  ];
  const WATCHED = 0.95; // share of each clip's duration that must have played
  const DRIFT_S = 0.12; // B is re-aligned to A when they drift further apart than this

  let task = null;
  let startedAt = 0;
  let heard = "a";
  let selected = 0;
  let votes = {};
  let busy = false;
  let tick = null;

  // --- API ------------------------------------------------------------------------------------

  async function api(path, body) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = { message: `HTTP ${response.status}` }; }
    if (!response.ok) throw Object.assign(new Error(data.message || `HTTP ${response.status}`), { data, status: response.status });
    return data;
  }

  function notice(text) {
    $("notice").textContent = text || "";
    $("notice").hidden = !text;
  }

  function showProgress(progress) {
    if (progress) $("progress").textContent = `${progress.done_today} of ${progress.daily_limit} today`;
  }

  async function loadNext() {
    busy = true;
    try {
      const data = await api("/api/annotation/next/", { campaign: config.campaign });
      showProgress(data.progress);
      if (!data.task) {
        task = null;
        if (tick) clearInterval(tick);
        videos.a.removeAttribute("src");
        videos.b.removeAttribute("src");
        $("task").hidden = true;
        $("votes").hidden = true;
        notice(data.message || "No task is left for you.");
        return;
      }
      notice("");
      render(data.task);
    } catch (error) {
      notice(error.message);
    } finally {
      busy = false;
    }
  }

  // --- Rendering --------------------------------------------------------------------------------

  function render(next) {
    task = next;
    votes = {};
    selected = 0;
    startedAt = performance.now();
    $("prompt-id").textContent = `(${task.prompt.id})`;
    $("script").textContent = task.prompt.script;
    const shots = $("shots");
    shots.replaceChildren();
    task.prompt.shots.forEach((shot) => {
      const item = document.createElement("li");
      const jump = document.createElement("button");
      jump.type = "button";
      jump.className = "ann-jump";
      jump.dataset.start = shot.start_s;
      jump.textContent = `Shot ${shot.index} · ${shot.start_s.toFixed(1)}–${shot.end_s.toFixed(1)} s`;
      jump.setAttribute("aria-keyshortcuts", shot.index <= 9 ? String(shot.index) : "");
      jump.addEventListener("click", () => seek(shot.start_s));
      const caption = document.createElement("p");
      caption.textContent = shot.caption;
      const meta = document.createElement("p");
      meta.className = "muted";
      meta.textContent = [shot.shot_scale, shot.camera_angle, shot.camera_motion, `enters by ${shot.transition_in}`]
        .filter(Boolean).join(" · ") + (shot.audio ? ` · ${shot.audio}` : "") +
        (shot.on_screen_text ? ` · text: “${shot.on_screen_text}”` : "");
      item.append(jump, caption, meta);
      shots.append(item);
    });
    for (const side of ["a", "b"]) {
      const video = videos[side];
      video.pause();
      video.src = task.clips[side];
      video.load();
      video.dataset.maxSeen = "0";
    }
    renderDimensions();
    setHeard("a");
    $("seek").value = 0;
    $("task").hidden = false;
    $("votes").hidden = false;
    updateLock();
    if (tick) clearInterval(tick);
    tick = setInterval(updateLock, 250);
    $("play").focus();
  }

  function renderDimensions() {
    const holder = $("dimensions");
    holder.replaceChildren();
    task.dimensions.forEach((dimension, index) => {
      const field = document.createElement("fieldset");
      field.className = "ann-dimension";
      field.dataset.dimension = dimension.dimension;
      field.id = `dim-${dimension.dimension}`;
      const legend = document.createElement("legend");
      legend.innerHTML = `<span class="ann-dim-name"></span> <span class="muted ann-guideline"></span>`;
      legend.querySelector(".ann-dim-name").textContent = `${index + 1}. ${dimension.dimension}`;
      legend.querySelector(".ann-guideline").textContent = dimension.guideline;
      field.append(legend);
      const buttons = document.createElement("div");
      buttons.className = "ann-choices";
      OUTCOMES.forEach((outcome) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "ann-choice";
        button.dataset.outcome = outcome.value;
        button.setAttribute("aria-pressed", "false");
        button.innerHTML = `<kbd></kbd> <span></span>`;
        button.querySelector("kbd").textContent = outcome.key;
        button.querySelector("span").textContent = outcome.label;
        button.addEventListener("click", () => { select(index); vote(outcome.value); });
        buttons.append(button);
      });
      const comment = document.createElement("input");
      comment.type = "text";
      comment.className = "ann-comment";
      comment.maxLength = 2000;
      comment.placeholder = "comment (optional, C)";
      comment.setAttribute("aria-label", `comment on ${dimension.dimension}`);
      comment.addEventListener("focus", () => select(index));
      buttons.append(comment);
      field.append(buttons);
      field.addEventListener("click", () => select(index));
      holder.append(field);
    });
    select(0);
  }

  function select(index) {
    selected = Math.max(0, Math.min(task.dimensions.length - 1, index));
    document.querySelectorAll(".ann-dimension").forEach((field, i) => field.classList.toggle("selected", i === selected));
  }

  function vote(outcome) {
    if (!unlocked()) {
      notice("Watch both clips through once before voting.");
      return;
    }
    const dimension = task.dimensions[selected].dimension;
    votes[dimension] = outcome;
    const field = $(`dim-${dimension}`);
    field.querySelectorAll(".ann-choice").forEach((button) =>
      button.setAttribute("aria-pressed", String(button.dataset.outcome === outcome)));
    field.classList.add("answered");
    const next = task.dimensions.findIndex((d) => !(d.dimension in votes));
    if (next >= 0) select(next);
    updateLock();
  }

  // --- Playback ---------------------------------------------------------------------------------

  function duration() {
    return Math.max(videos.a.duration || 0, videos.b.duration || 0);
  }

  function playing() {
    return !videos.a.paused || !videos.b.paused;
  }

  function togglePlay() {
    if (playing()) {
      videos.a.pause();
      videos.b.pause();
    } else {
      const at = videos.a.ended && videos.b.ended ? 0 : Math.max(videos.a.currentTime, videos.b.currentTime);
      if (at === 0) seek(0);
      for (const side of ["a", "b"]) {
        const video = videos[side];
        if (video.currentTime < (video.duration || 0) - 0.05) video.play().catch((e) => notice(`Clip ${side.toUpperCase()} cannot play: ${e.message}`));
      }
    }
  }

  function seek(seconds) {
    for (const video of Object.values(videos)) {
      video.currentTime = Math.max(0, Math.min(seconds, (video.duration || seconds) - 0.01));
    }
    updateLock();
  }

  function setHeard(side) {
    heard = side;
    videos.a.muted = side !== "a";
    videos.b.muted = side !== "b";
    document.querySelector(`input[name=hear][value=${side}]`).checked = true;
    $("heard-a").hidden = side !== "a";
    $("heard-b").hidden = side !== "b";
  }

  function watchedShare(video) {
    if (!video.duration || !isFinite(video.duration)) return 0;
    let seen = 0;
    for (let i = 0; i < video.played.length; i++) seen += video.played.end(i) - video.played.start(i);
    return Math.min(1, seen / video.duration);
  }

  function elapsedS() {
    return (performance.now() - startedAt) / 1000;
  }

  function unlocked() {
    return task && watchedShare(videos.a) >= WATCHED && watchedShare(videos.b) >= WATCHED &&
      elapsedS() >= task.required_watch_s;
  }

  function updateLock() {
    if (!task) return;
    const open = unlocked();
    document.querySelectorAll(".ann-choice").forEach((button) => { button.disabled = !open; });
    const shares = { a: watchedShare(videos.a), b: watchedShare(videos.b) };
    $("watch-a").textContent = `${Math.round(shares.a * 100)}% watched`;
    $("watch-b").textContent = `${Math.round(shares.b * 100)}% watched`;
    $("watch-status").textContent = open
      ? "Both clips watched: vote on every question."
      : `Votes unlock once both clips have played through (A ${Math.round(shares.a * 100)}%, B ${Math.round(shares.b * 100)}%` +
        (elapsedS() < task.required_watch_s ? `, at least ${Math.ceil(task.required_watch_s - elapsedS())} s more` : "") + ").";
    const answered = task.dimensions.every((d) => d.dimension in votes);
    $("submit").disabled = !(open && answered) || busy;
    const seconds = Math.floor(elapsedS());
    $("timer").textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    const total = duration();
    const now = Math.max(videos.a.currentTime, videos.b.currentTime);
    if (total) {
      $("seek").max = total;
      if (document.activeElement !== $("seek")) $("seek").value = now;
      $("clock").textContent = `${now.toFixed(1)} / ${total.toFixed(1)} s`;
    }
    $("play").textContent = playing() ? "Pause both" : "Play both";
  }

  videos.a.addEventListener("timeupdate", () => {
    const b = videos.b;
    if (!videos.a.paused && !b.ended && b.duration && Math.abs(b.currentTime - videos.a.currentTime) > DRIFT_S &&
        videos.a.currentTime < b.duration) {
      b.currentTime = videos.a.currentTime;
    }
  });
  for (const video of Object.values(videos)) {
    for (const event of ["play", "pause", "ended", "seeked", "loadedmetadata"]) video.addEventListener(event, updateLock);
    video.addEventListener("error", () => notice("A clip failed to load: skip the pair with reason “broken clip” (S)."));
  }
  $("play").addEventListener("click", togglePlay);
  $("seek").addEventListener("input", (event) => seek(parseFloat(event.target.value)));
  document.querySelectorAll("input[name=hear]").forEach((radio) => radio.addEventListener("change", () => setHeard(radio.value)));

  // --- Submit and skip ---------------------------------------------------------------------------

  async function submit(event) {
    if (event) event.preventDefault();
    if (!task || busy || $("submit").disabled) return;
    busy = true;
    const body = { task: task.id, votes: {}, client_elapsed_ms: Math.round(performance.now() - startedAt) };
    document.querySelectorAll(".ann-dimension").forEach((field) => {
      const dimension = field.dataset.dimension;
      body.votes[dimension] = { outcome: votes[dimension], comment: field.querySelector(".ann-comment").value };
    });
    try {
      const data = await api("/api/annotation/judgments/", body);
      showProgress(data.progress);
    } catch (error) {
      busy = false;
      notice(error.message);
      if (error.status !== 409) return;  // expired or taken over: move on to the next task
    }
    videos.a.pause();
    videos.b.pause();
    await loadNext();
  }

  function openSkip() {
    if (!task) return;
    videos.a.pause();
    videos.b.pause();
    $("skip-dialog").showModal();
  }

  async function skip() {
    const form = $("skip-form");
    const reason = form.querySelector("input[name=reason]:checked").value;
    const comment = form.querySelector("input[name=comment]").value;
    try {
      await api("/api/annotation/skip/", { task: task.id, reason, comment });
    } catch (error) {
      notice(error.message);
    }
    form.querySelector("input[name=comment]").value = "";
    await loadNext();
  }

  $("votes").addEventListener("submit", submit);
  $("skip").addEventListener("click", openSkip);
  $("skip-cancel").addEventListener("click", () => $("skip-dialog").close());
  $("skip-form").addEventListener("submit", () => { skip(); });

  // --- Keyboard -----------------------------------------------------------------------------------

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const dialog = $("skip-dialog");
    if (dialog.open) {
      const reasons = dialog.querySelectorAll("input[name=reason]");
      if (/^[1-9]$/.test(event.key) && target.type !== "text" && reasons[Number(event.key) - 1]) {
        reasons[Number(event.key) - 1].checked = true;
        event.preventDefault();
      }
      return;  // Enter submits the dialog form, Escape closes it (the browser does both)
    }
    if (target.classList && target.classList.contains("ann-comment")) {
      if (event.key === "Escape" || event.key === "Enter") { target.blur(); event.preventDefault(); }
      return;
    }
    if (!task) return;
    const key = event.key;
    const handled = () => event.preventDefault();
    switch (key) {
      case " ": togglePlay(); return handled();
      case "ArrowLeft": seek(Math.max(videos.a.currentTime, videos.b.currentTime) - 2); return handled();
      case "ArrowRight": seek(Math.max(videos.a.currentTime, videos.b.currentTime) + 2); return handled();
      case "ArrowUp": select(selected - 1); return handled();
      case "ArrowDown": select(selected + 1); return handled();
      case "Enter": submit(); return handled();
      case "?": $("shortcuts").open = !$("shortcuts").open; return handled();
    }
    const letter = key.toLowerCase();
    if (letter === "h") { setHeard(heard === "a" ? "b" : "a"); return handled(); }
    if (letter === "s") { openSkip(); return handled(); }
    if (letter === "c") { document.querySelectorAll(".ann-comment")[selected].focus(); return handled(); }
    const outcome = { a: "a", b: "b", g: "both_good", n: "both_bad" }[letter];
    if (outcome) { vote(outcome); return handled(); }
    if (/^[1-9]$/.test(key)) {
      const shot = task.prompt.shots[Number(key) - 1];
      if (shot) seek(shot.start_s);
      return handled();
    }
  });

  // A focused button would also "click" on Space/Enter: the page's own shortcut already ran.
  document.addEventListener("keyup", (event) => {
    if ((event.key === " " || event.key === "Enter") && event.target.tagName === "BUTTON" && !$("skip-dialog").open) event.preventDefault();
  });

  loadNext();
})();
