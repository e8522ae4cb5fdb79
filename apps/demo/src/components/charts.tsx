/** Hand-written SVG charts: a sparkline for table rows and a multi-series line chart. */

export function Sparkline(props: { values: readonly number[]; width?: number; height?: number }) {
  const { values, width = 120, height = 28 } = props;
  if (values.length < 2)
    return <svg className="sparkline" width={width} height={height} aria-hidden="true" />;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const step = width / (values.length - 1);
  const points = values.map(
    (v, i) => `${(i * step).toFixed(1)},${(height - 2 - ((v - min) / span) * (height - 4)).toFixed(1)}`,
  );
  const first = values[0] ?? 0;
  const last = values.at(-1) ?? 0;
  const tone = last > first ? 'up' : last < first ? 'down' : 'flat';
  return (
    <svg
      className={`sparkline sparkline-${tone}`}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      aria-hidden="true"
    >
      <polyline points={`0,${height} ${points.join(' ')} ${width},${height}`} className="sparkline-area" />
      <polyline points={points.join(' ')} className="sparkline-line" />
    </svg>
  );
}

export interface Series {
  name: string;
  color: string;
  values: readonly number[];
}

/**
 * Lines over a fixed window of `capacity` samples, newest on the right; y from 0 to the rounded-up
 * maximum. `format` labels the axis and the legend's latest values.
 */
export function LineChart(props: {
  series: readonly Series[];
  capacity?: number;
  height?: number;
  format?: (value: number) => string;
  label: string;
}) {
  const { series, capacity = 60, height = 160, format = (v: number) => String(Math.round(v)), label } = props;
  const width = 600;
  const pad = { top: 8, right: 8, bottom: 4, left: 0 };
  const max = niceMax(Math.max(1, ...series.flatMap((s) => s.values.slice(-capacity))));
  const x = (i: number, n: number) =>
    pad.left + ((capacity - n + i) / (capacity - 1)) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - v / max) * (height - pad.top - pad.bottom);
  return (
    <figure className="chart">
      <figcaption>
        <span className="chart-title">{label}</span>
        <span className="chart-legend">
          {series.map((s) => (
            <span key={s.name} className="legend-item">
              <i style={{ background: s.color }} />
              {s.name} <b>{s.values.length > 0 ? format(s.values.at(-1) ?? 0) : '–'}</b>
            </span>
          ))}
        </span>
      </figcaption>
      <div className="chart-body">
        <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={label}>
          {[0.25, 0.5, 0.75, 1].map((f) => (
            <line key={f} x1={0} x2={width} y1={y(max * f)} y2={y(max * f)} className="chart-grid" />
          ))}
          {series.map((s) => {
            const values = s.values.slice(-capacity);
            if (values.length === 0) return null;
            const points = values
              .map((v, i) => `${x(i, values.length).toFixed(1)},${y(v).toFixed(1)}`)
              .join(' ');
            return (
              <polyline
                key={s.name}
                points={points}
                fill="none"
                stroke={s.color}
                strokeWidth={2}
                vectorEffect="non-scaling-stroke"
                strokeLinejoin="round"
              />
            );
          })}
        </svg>
        <span className="chart-max">{format(max)}</span>
      </div>
    </figure>
  );
}

/** 1, 2 or 5 times a power of ten, at least `value`. */
function niceMax(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}
