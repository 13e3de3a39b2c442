/* The clip page: every [data-seek] control (timeline markers, scripted shots) seeks the player to its time,
   and a playhead follows the player along the timeline. Without this script the page still shows everything. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var video = document.getElementById("player");
    var timeline = document.getElementById("timeline");
    var playhead = document.getElementById("playhead");
    if (!video) return;
    var duration = timeline ? Number(timeline.dataset.duration) || 0 : 0;

    function seek(seconds) {
      var go = function () { video.currentTime = seconds; };
      if (video.readyState >= 1) go(); else video.addEventListener("loadedmetadata", go, { once: true });
    }

    document.querySelectorAll("[data-seek]").forEach(function (control) {
      control.addEventListener("click", function () {
        seek(Number(control.dataset.seek));
        video.pause();
      });
    });

    function movePlayhead() {
      if (!playhead || !duration) return;
      var lanes = timeline.querySelector(".lane");
      var tracks = timeline.querySelectorAll(".track");
      var first = tracks[0], last = tracks[tracks.length - 1];
      playhead.style.top = first.offsetTop + "px";
      playhead.style.height = last.offsetTop + last.offsetHeight - first.offsetTop + "px";
      var pct = Math.max(0, Math.min(100, (100 * video.currentTime) / duration));
      playhead.style.left = "calc(" + lanes.offsetLeft + "px + " + pct / 100 + " * " + lanes.offsetWidth + "px)";
      playhead.dataset.time = video.currentTime.toFixed(3);
    }
    ["timeupdate", "seeked", "loadedmetadata"].forEach(function (name) { video.addEventListener(name, movePlayhead); });
    window.addEventListener("resize", movePlayhead);
  });
})();
