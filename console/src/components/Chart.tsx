import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
  /** Bars instead of a line (counts per day). */
  bars?: boolean;
  /** Draw on a 0–1 scale (rates, Q-values). */
  unit?: boolean;
  /** Draw against a second axis on the right (another unit, e.g. tokens beside calls). */
  right?: boolean;
}

interface Props {
  title: string;
  /** x values: Unix seconds. */
  x: number[];
  series: ChartSeries[];
  height?: number;
  /** Called with the index of the point clicked (e.g. to open the trace behind it). */
  onPointClick?: (index: number) => void;
  /** Each point a change that holds until the next (e.g. a Q-value history): steps, with every point shown. */
  stepped?: boolean;
  /** x is a plain number (e.g. a Q-value bucket), not a time. */
  linear?: boolean;
}

const bars = uPlot.paths.bars!({ size: [0.6, 24] });
/** Two bar series side by side (e.g. pass and fail of one day). */
const leftBars = uPlot.paths.bars!({ size: [0.3, 12], align: -1 });
const rightBars = uPlot.paths.bars!({ size: [0.3, 12], align: 1 });
/** A value that holds until the next change (a Q-value between reviews). */
const steps = uPlot.paths.stepped!({ align: 1 });

/** A uPlot time-series chart that follows its container's width. */
export function Chart({ title, x, series, height = 200, onPointClick, stepped, linear }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const click = useRef(onPointClick);
  click.current = onPointClick;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const barSeries = series.filter((s) => s.bars).length;
    const scaleOf = (s: ChartSeries) => (s.unit ? 'unit' : s.right ? 'right' : 'y');
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false }, points: { size: 8 } },
      scales: {
        // Bars are centred on their x: half a step of room on either side keeps the first and last whole.
        x: { time: !linear, range: barSeries && x.length > 1 ? (_u, min, max) => [min - (x[1]! - x[0]!) / 2, max + (x[1]! - x[0]!) / 2] : undefined },
        unit: { range: [0, 1] },
      },
      axes: [
        { stroke: '#5b6478', grid: { stroke: '#eceef3' } },
        { stroke: '#5b6478', grid: { stroke: '#eceef3' }, scale: series.some((s) => !s.unit && !s.right) ? 'y' : 'unit' },
        ...(series.some((s) => s.right) ? [{ stroke: '#5b6478', grid: { show: false }, scale: 'right', side: 1 }] : []),
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: s.bars ? `${s.color}cc` : undefined,
          width: s.bars ? 0 : 2,
          scale: scaleOf(s),
          paths: s.bars ? (barSeries === 2 ? (series.indexOf(s) === 0 ? leftBars : rightBars) : bars) : stepped ? steps : undefined,
          points: { show: stepped || (!s.bars && x.length < 40), size: stepped ? 9 : 5, fill: s.color },
          spanGaps: true,
        })),
      ],
      hooks: onPointClick
        ? {
            ready: [
              (u) =>
                u.over.addEventListener('click', () => {
                  const index = u.cursor.idx;
                  if (index !== null && index !== undefined) click.current?.(index);
                }),
            ],
          }
        : {},
    };
    const plot = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [JSON.stringify([x, series]), height]);

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} class={onPointClick ? 'chart-box clickable' : 'chart-box'} data-points={x.length} />
    </figure>
  );
}

/** `YYYY-MM-DD` (UTC) → Unix seconds. */
export function daySeconds(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / 1000;
}
