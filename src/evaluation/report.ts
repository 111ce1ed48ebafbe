// The evaluation report: markdown and a precision–recall plot as a hand-written SVG.

export interface CurveSeries {
  name: string;
  color: string;
  points: { recall: number; precision: number }[];
}

/** Keeps the points that move the line by more than `eps` in either axis (plots stay small). */
export function thin(points: { recall: number; precision: number }[], eps = 0.002) {
  const out: { recall: number; precision: number }[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last === undefined || Math.abs(p.recall - last.recall) > eps || Math.abs(p.precision - last.precision) > eps)
      out.push(p);
  }
  if (points.length > 0 && out[out.length - 1] !== points[points.length - 1]) out.push(points[points.length - 1]);
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function prCurveSvg(series: readonly CurveSeries[], title: string): string {
  const W = 640;
  const H = 480;
  const L = 60;
  const R = 20;
  const T = 40;
  const B = 50;
  const x = (r: number) => L + r * (W - L - R);
  const y = (p: number) => H - B - p * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    parts.push(
      `<line x1="${x(v)}" y1="${y(0)}" x2="${x(v)}" y2="${y(1)}" stroke="#e5e5e5"/>`,
      `<line x1="${x(0)}" y1="${y(v)}" x2="${x(1)}" y2="${y(v)}" stroke="#e5e5e5"/>`,
      `<text x="${x(v)}" y="${y(0) + 16}" text-anchor="middle">${v.toFixed(1)}</text>`,
      `<text x="${x(0) - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}</text>`,
    );
  }
  parts.push(
    `<rect x="${x(0)}" y="${y(1)}" width="${x(1) - x(0)}" height="${y(0) - y(1)}" fill="none" stroke="#333"/>`,
    `<text x="${(x(0) + x(1)) / 2}" y="${H - 12}" text-anchor="middle">recall</text>`,
    `<text x="16" y="${(y(0) + y(1)) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(y(0) + y(1)) / 2})">precision</text>`,
  );
  series.forEach((s, k) => {
    const pts = thin(s.points)
      .map((p) => `${x(p.recall).toFixed(1)},${y(p.precision).toFixed(1)}`)
      .join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    // Legend bottom-left: PR curves of useful models stay high on the left, so that corner is empty.
    const ly = y(0.2) + 18 * k;
    parts.push(
      `<line x1="${x(0.03)}" y1="${ly - 4}" x2="${x(0.03) + 25}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"/>`,
      `<text x="${x(0.03) + 32}" y="${ly}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
