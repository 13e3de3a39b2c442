// Live progress of a submission: polls its JSON feed and updates the page until scoring (or a
// re-scoring) ends. Polling, not Server-Sent Events: a held-open stream would pin one gunicorn sync
// worker per open page, while a poll is one short request every couple of seconds.
(function () {
  "use strict";
  const section = document.getElementById("progress");
  if (!section) return;
  const url = section.dataset.progressUrl;
  const resultUrl = section.dataset.clipResultUrl;  // for clip id 0; the id is substituted
  const finished = new Set(["scored", "failed", "cancelled"]);
  const fmt = (v) => (v === null || v === undefined ? "\u2014" : Number(v).toFixed(3));
  const ACTIVE_MS = 1500, HIDDEN_MS = 10000, MAX_BACKOFF_MS = 15000;
  let failures = 0;

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (className) td.className = className;
    return td;
  }

  function clipRow(clip) {
    const row = document.createElement("tr");
    row.dataset.clip = clip.id;
    row.appendChild(cell(clip.prompt));
    row.appendChild(cell(clip.status, "status status-" + clip.status));
    row.appendChild(cell(clip.attempts, "num"));
    const score = cell("", "num");
    if (clip.overall === null || clip.overall === undefined) {
      score.textContent = "\u2014";
    } else {
      const link = document.createElement("a");
      link.href = resultUrl.replace("/0/", "/" + clip.id + "/");
      link.title = "metrics and evidence";
      link.textContent = fmt(clip.overall);
      score.appendChild(link);
    }
    row.appendChild(score);
    row.appendChild(cell(clip.reason, "reason"));
    return row;
  }

  function render(data) {
    const state = document.getElementById("state");
    state.textContent = data.state;
    state.className = "state state-" + data.state;
    document.getElementById("state-reason").textContent = data.state_reason || "";
    const bar = document.getElementById("bar");
    bar.max = Math.max(data.clips_total, 1);
    bar.value = data.clips_done;
    document.getElementById("count").textContent = data.clips_done + " / " + data.clips_total + " clips done";
    document.getElementById("percent").textContent = "(" + data.percent + "%)";
    const byStatus = document.getElementById("by-status");
    byStatus.replaceChildren(...Object.entries(data.clips_by_status).filter(([, n]) => n > 0).map(([status, n]) => {
      const span = document.createElement("span");
      span.className = "status-" + status;
      span.textContent = n + " " + status;
      return span;
    }));
    const rescore = document.getElementById("rescore");
    rescore.hidden = !data.rescore;
    if (data.rescore) {
      document.getElementById("rescore-version").textContent = data.rescore.engine_version;
      document.getElementById("rescore-count").textContent = data.rescore.clips_done + " / " + data.rescore.clips_total;
      document.getElementById("rescore-from").textContent = data.rescore.from_engine_version || "?";
    }
    if (data.clips.length) {
      document.getElementById("clip-rows").replaceChildren(...data.clips.map(clipRow));
    }
    const failuresSection = document.getElementById("failures");
    failuresSection.hidden = data.failures.length === 0;
    document.getElementById("failure-list").replaceChildren(...data.failures.map((item) => {
      const li = document.createElement("li");
      const prompt = document.createElement("strong");
      prompt.textContent = item.prompt;
      li.append(prompt, " (" + item.status + "): " + item.reason);
      return li;
    }));
    if (data.scores) {
      document.getElementById("scores").hidden = false;
      document.getElementById("score-overall").textContent = fmt(data.scores.overall);
      for (const [name, value] of Object.entries(data.scores.dimensions)) {
        const scoreCell = document.getElementById("score-" + name);
        if (scoreCell) scoreCell.textContent = fmt(value);
      }
      document.getElementById("engine-version").textContent = data.scores.engine_version;
      document.getElementById("failed-prompts").textContent = data.scores.failed_prompts.join(", ") || "none";
    }
    return finished.has(data.state) && !data.rescore;
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        failures = 0;
        if (render(await response.json())) {
          document.getElementById("live-note").hidden = true;
          return;
        }
      } else {
        failures += 1;
      }
    } catch (error) {
      failures += 1;  // a dropped connection: try again, a little later each time
    }
    const delay = document.hidden ? HIDDEN_MS : Math.min(ACTIVE_MS * 2 ** failures, MAX_BACKOFF_MS);
    setTimeout(poll, delay);
  }

  const state = document.getElementById("state").textContent.trim();
  if (!finished.has(state) || !document.getElementById("rescore").hidden) {
    document.getElementById("live-note").hidden = false;
    poll();
  }
})();
