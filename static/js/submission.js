// Live progress of a submission: polls its JSON feed and updates the page until scoring ends.
(function () {
  "use strict";
  const section = document.getElementById("progress");
  if (!section) return;
  const url = section.dataset.progressUrl;
  const resultUrl = section.dataset.clipResultUrl;  // for clip id 0; the id is substituted
  const finished = new Set(["scored", "failed", "cancelled"]);
  const fmt = (v) => (v === null || v === undefined ? "\u2014" : Number(v).toFixed(3));

  function render(data) {
    const state = document.getElementById("state");
    state.textContent = data.state;
    state.className = "state state-" + data.state;
    document.getElementById("state-reason").textContent = data.state_reason || "";
    const bar = document.getElementById("bar");
    bar.max = Math.max(data.clips_total, 1);
    bar.value = data.clips_done;
    document.getElementById("count").textContent = data.clips_done + " / " + data.clips_total + " clips done";
    const body = document.getElementById("clip-rows");
    if (data.clips.length) {
      body.replaceChildren(...data.clips.map((clip) => {
        const row = document.createElement("tr");
        row.dataset.clip = clip.id;
        for (const [text, cls] of [[clip.prompt, ""], [clip.status, "status status-" + clip.status]]) {
          const cell = document.createElement("td");
          cell.textContent = text;
          if (cls) cell.className = cls;
          row.appendChild(cell);
        }
        const score = document.createElement("td");
        score.className = "num";
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
        const reason = document.createElement("td");
        reason.textContent = clip.reason;
        row.appendChild(reason);
        return row;
      }));
    }
    if (data.scores) {
      document.getElementById("scores").hidden = false;
      document.getElementById("score-overall").textContent = fmt(data.scores.overall);
      for (const [name, value] of Object.entries(data.scores.dimensions)) {
        const cell = document.getElementById("score-" + name);
        if (cell) cell.textContent = fmt(value);
      }
      document.getElementById("engine-version").textContent = data.scores.engine_version;
      document.getElementById("failed-prompts").textContent = data.scores.failed_prompts.join(", ") || "none";
    }
    return finished.has(data.state);
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok && render(await response.json())) return;
    } catch (error) {
      // A dropped connection is retried on the next tick.
    }
    setTimeout(poll, 1500);
  }
  if (!finished.has(document.getElementById("state").textContent.trim())) poll();
})();
