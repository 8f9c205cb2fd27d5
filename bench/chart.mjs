/** The benchmark's chart: logins/s against concurrency, one line per implementation, as SVG. */

const COLOURS = ['#6b7280', '#d97706', '#2563eb', '#059669'];
const WIDTH = 640;
const HEIGHT = 360;
const PLOT = { left: 64, right: 180, top: 40, bottom: 48 };

const escape = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );

/**
 * @param {{ title: string, concurrency: number[], series: { label: string, values: number[] }[] }} chart
 * Concurrency levels are spaced evenly (they grow by ×4), logins/s linearly from 0.
 */
export function renderChart({ title, concurrency, series }) {
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom;
  const top = niceCeiling(Math.max(...series.flatMap((s) => s.values)));
  const x = (i) =>
    PLOT.left +
    (concurrency.length === 1 ? plotWidth / 2 : (i * plotWidth) / (concurrency.length - 1));
  const y = (v) => PLOT.top + plotHeight - (v / top) * plotHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${PLOT.left}" y="22" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let step = 0; step <= 4; step += 1) {
    const value = (top * step) / 4;
    parts.push(
      `<line x1="${PLOT.left}" x2="${PLOT.left + plotWidth}" y1="${y(value)}" y2="${y(value)}" stroke="#e5e7eb"/>`,
      `<text x="${PLOT.left - 8}" y="${y(value) + 4}" text-anchor="end">${Math.round(value)}</text>`,
    );
  }
  concurrency.forEach((c, i) => {
    parts.push(
      `<text x="${x(i)}" y="${PLOT.top + plotHeight + 18}" text-anchor="middle">${c}</text>`,
    );
  });
  parts.push(
    `<text x="${PLOT.left + plotWidth / 2}" y="${HEIGHT - 8}" text-anchor="middle">concurrent logins</text>`,
    `<text x="16" y="${PLOT.top + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 16 ${PLOT.top + plotHeight / 2})">logins/s</text>`,
  );
  series.forEach(({ label, values }, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    parts.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2.5" points="${points.join(' ')}"/>`,
    );
    for (const point of points) {
      const [px, py] = point.split(',');
      parts.push(`<circle cx="${px}" cy="${py}" r="3.5" fill="${colour}"/>`);
    }
    const legendY = PLOT.top + 12 + index * 22;
    parts.push(
      `<line x1="${WIDTH - PLOT.right + 16}" x2="${WIDTH - PLOT.right + 40}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${colour}" stroke-width="2.5"/>`,
      `<text x="${WIDTH - PLOT.right + 46}" y="${legendY}">${escape(label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** 1, 2 or 5 times a power of ten, at or above the value. */
function niceCeiling(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= value);
}
