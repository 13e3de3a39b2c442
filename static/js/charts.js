/* MSAV Arena charts: Plotly (served from /static/js/vendor/plotly.min.js, no CDN), drawn from JSON embedded
   in the page. Every chart has its numbers in a table beside it, so nothing depends on seeing the chart.
   Colours follow the page's light or dark theme (CSS variables) and are redrawn when the theme changes. */
(function () {
  "use strict";

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function theme() {
    return {
      fg: css("--fg") || "#1b1f24",
      muted: css("--muted") || "#5b6470",
      line: css("--line") || "#d8dde3",
      accent: css("--accent") || "#1f5fbf",
      second: css("--chart-2") || "#d9822b",
      third: css("--chart-3") || "#6b7785",
    };
  }

  function baseLayout(t, extra) {
    return Object.assign(
      {
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
        font: { color: t.fg, family: "system-ui, -apple-system, Segoe UI, sans-serif", size: 13 },
        margin: { l: 56, r: 16, t: 16, b: 48 },
        legend: { orientation: "h", y: -0.2 },
        xaxis: { gridcolor: t.line, zerolinecolor: t.line, linecolor: t.line },
        yaxis: { gridcolor: t.line, zerolinecolor: t.line, linecolor: t.line },
        hoverlabel: { font: { family: "system-ui, sans-serif" } },
      },
      extra || {}
    );
  }

  var CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function data(el) {
    var source = document.getElementById(el.dataset.source);
    return source ? JSON.parse(source.textContent) : null;
  }

  function num(v) {
    return v === null || v === undefined ? null : Number(v);
  }

  var renderers = {
    radar: function (el, d, t) {
      var points = d.radar.filter(function (p) { return p.model !== null || p.best !== null; });
      var theta = points.map(function (p) { return p.dimension; });
      function trace(key, name, color, dash, fill) {
        var r = points.map(function (p) { return p[key] === null ? 0 : p[key]; });
        return {
          type: "scatterpolar", name: name, r: r.concat([r[0]]), theta: theta.concat([theta[0]]),
          line: { color: color, dash: dash || "solid", width: 2 }, fill: fill ? "toself" : "none",
          opacity: fill ? 0.85 : 1, hovertemplate: "%{theta}: %{r:.3f}<extra>" + name + "</extra>",
        };
      }
      var traces = [
        trace("best", "field best", t.third, "dot"),
        trace("median", "field median", t.second, "dash"),
        trace("model", d.model, t.accent, "solid", true),
      ];
      Plotly.newPlot(el, traces, baseLayout(t, {
        polar: {
          bgcolor: "rgba(0,0,0,0)",
          radialaxis: { range: [0, 1], tickvals: [0.25, 0.5, 0.75, 1], gridcolor: t.line, linecolor: t.line, tickfont: { size: 9, color: t.muted }, angle: 90, tickangle: 90 },
          angularaxis: { gridcolor: t.line, linecolor: t.line },
        },
        margin: { l: 40, r: 40, t: 24, b: 24 },
      }), CONFIG);
    },

    breakdown: function (el, d, t) {
      var axis = el.dataset.axis;
      var group = d.breakdowns.filter(function (b) { return b.axis === axis; })[0];
      if (!group) return;
      var x = group.bars.map(function (b) { return b.value; });
      // Slant the names only when, side by side, they would not fit under the bars.
      var labelChars = x.length * Math.max.apply(null, x.map(function (v) { return String(v).length; }).concat([1]));
      Plotly.newPlot(el, [
        { type: "bar", name: d.model, x: x, y: group.bars.map(function (b) { return num(b.model); }), marker: { color: t.accent },
          hovertemplate: "%{x}: %{y:.3f}<extra>" + d.model + "</extra>" },
        { type: "bar", name: "field median", x: x, y: group.bars.map(function (b) { return num(b.median); }), marker: { color: t.second },
          hovertemplate: "%{x}: %{y:.3f}<extra>field median</extra>" },
      ], baseLayout(t, {
        barmode: "group",
        yaxis: { range: [0, 1], title: { text: "overall" }, gridcolor: t.line },
        // Long category names slant up-left and get the room they need; the legend sits above the bars,
        // so slanted names can never run into it (or off the right edge).
        xaxis: { gridcolor: t.line, linecolor: t.line, tickangle: labelChars > 40 ? -35 : 0, automargin: true },
        legend: { orientation: "h", x: 0, y: 1.02, xanchor: "left", yanchor: "bottom" },
        margin: { l: 56, r: 16, t: 60, b: 24 },  // room for the legend under the mode bar
      }), CONFIG);
    },

    scatter: function (el, d, t) {
      var pts = d.scatter;
      function errs(key, lowKey, highKey) {
        return {
          type: "data", symmetric: false, color: t.muted, thickness: 1.2,
          array: pts.map(function (p) { return p[highKey] === null ? 0 : p[highKey] - p[key]; }),
          arrayminus: pts.map(function (p) { return p[lowKey] === null ? 0 : p[key] - p[lowKey]; }),
        };
      }
      Plotly.newPlot(el, [{
        type: "scatter", mode: "markers+text", name: "models",
        x: pts.map(function (p) { return p.automatic; }), y: pts.map(function (p) { return p.human; }),
        text: pts.map(function (p) { return p.model; }), textposition: "top center", textfont: { size: 11 },
        error_x: errs("automatic", "automatic_lower", "automatic_upper"),
        error_y: errs("human", "human_lower", "human_upper"),
        marker: { size: 10, color: pts.map(function (p) { return p.simulated ? t.second : t.accent; }) },
        hovertemplate: "%{text}<br>automatic %{x:.3f}<br>human %{y:.0f}<extra></extra>",
      }], baseLayout(t, {
        xaxis: { title: { text: "automatic score (" + d.dimension + ")" }, gridcolor: t.line },
        yaxis: { title: { text: "human rating" }, gridcolor: t.line },
        showlegend: false,
      }), CONFIG);
    },

    history: function (el, d, t) {
      var h = d.history;
      var x = h.map(function (p) { return p.computed_at; });
      function band(key, color, name) {
        return [
          { x: x, y: h.map(function (p) { return num(p[key + "_upper"]); }), mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
          { x: x, y: h.map(function (p) { return num(p[key + "_lower"]); }), mode: "lines", line: { width: 0 }, fill: "tonexty",
            fillcolor: color.replace(")", ", 0.15)").replace("rgb(", "rgba("), name: name + " 95%", hoverinfo: "skip" },
          { x: x, y: h.map(function (p) { return num(p[key]); }), mode: "lines+markers", name: name, line: { color: color, width: 2 },
            marker: { size: 8 }, cliponaxis: false,  // a correlation of exactly 1 sits on the top edge: draw it whole
            hovertemplate: "%{x}<br>" + name + " %{y:.3f}<extra></extra>" },
        ];
      }
      var traces = band("spearman", "rgb(31, 95, 191)", "Spearman ρ").concat(band("kendall", "rgb(217, 130, 43)", "Kendall τ"));
      var xaxis = { type: "date", gridcolor: t.line, nticks: 5, tickformat: "%b %d<br>%H:%M" };
      if (x.length === 1) {  // one snapshot: show an hour around it instead of a millisecond-wide axis
        var at = new Date(x[0]).getTime();
        xaxis.range = [new Date(at - 3600e3).toISOString(), new Date(at + 3600e3).toISOString()];
      }
      Plotly.newPlot(el, traces, baseLayout(t, {
        xaxis: xaxis,
        yaxis: { range: [-1.05, 1.05], tickvals: [-1, -0.5, 0, 0.5, 1], title: { text: "rank correlation" }, gridcolor: t.line },
        shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: d.reference_spearman, y1: d.reference_spearman,
                   line: { color: t.muted, dash: "dash", width: 1.5 } }],
        annotations: [{ xref: "paper", x: 0, y: d.reference_spearman, xanchor: "left", yanchor: "bottom", showarrow: false,
                        text: "MSAVBench Spearman " + d.reference_spearman, font: { color: t.muted, size: 11 } }],
      }), CONFIG);
    },

    heatmap: function (el, d, t) {
      var m = d.win_rate;
      Plotly.newPlot(el, [{
        type: "heatmap", x: m.models, y: m.models, z: m.win_rate, zmin: 0, zmax: 1, colorscale: "RdBu", reversescale: false,
        text: m.battles.map(function (row) { return row.map(function (n) { return n + " battles"; }); }),
        hovertemplate: "%{y} vs %{x}<br>win rate %{z:.2f}<br>%{text}<extra></extra>",
        colorbar: { title: { text: "win rate" }, outlinewidth: 0 },
      }], baseLayout(t, {
        yaxis: { autorange: "reversed", gridcolor: t.line, automargin: true },
        xaxis: { gridcolor: t.line, automargin: true, tickangle: -30 },
        margin: { l: 16, r: 16, t: 16, b: 16 },
      }), CONFIG);
    },
  };

  function drawAll() {
    if (typeof Plotly === "undefined") return;
    var t = theme();
    document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      var render = renderers[el.dataset.chart];
      var d = data(el);
      if (!render || !d) return;
      try {
        render(el, d, t);
        el.classList.add("drawn");
      } catch (error) {
        el.textContent = "This chart could not be drawn: " + error.message + ". Its numbers are in the table below.";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", drawAll);
  if (window.matchMedia) {
    var query = window.matchMedia("(prefers-color-scheme: dark)");
    var redraw = function () { drawAll(); };
    if (query.addEventListener) query.addEventListener("change", redraw); else if (query.addListener) query.addListener(redraw);
  }
})();
