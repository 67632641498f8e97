/**
 * Charts view (recharts): children per node over time, starts / stops /
 * restarts / failures per second, members over time, and the convergence
 * time after each topology change. Data comes from the history slice
 * (samples, at most one a second, only when the cluster changed) through
 * the pure transforms in chart-data.ts.
 *
 * The time charts share one x domain (first sample to now) and are redrawn
 * every few seconds so a quiet cluster's lines reach the present. Colours:
 * theme variables for axes and status series, a fixed palette per node.
 */
import { useEffect, useMemo, useState, type ReactElement, type ReactNode } from 'react';
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Cell, ComposedChart, LabelList, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useStore } from '../store/index';
import type { Convergence, Sample } from '../store/history';
import { clockTime, convergenceBars, countTicks, formatDuration, niceCeil, membersSeries, nodeColour, perNodeSeries, rateSeries, timeDomain, timeTicks, type ConvergenceBar, type NodePoint } from './chart-data';
import './charts.css';

/** Charts are redrawn at most this often while the cluster changes, ms. */
const REDRAW_MS = 1_000;
/** How often the time charts are extended to the present, ms. */
const TICK_MS = 5_000;
const EMPTY = 'Samples appear as the cluster changes; one per second at most.';

const axisTick = { fill: 'var(--text-muted)', fontSize: 11 };
const tooltipStyle = {
  contentStyle: { background: 'var(--surface)', border: '1px solid var(--border)', borderRadius: 6, color: 'var(--text)', fontSize: 12 },
  labelStyle: { color: 'var(--text-muted)' },
  itemStyle: { padding: 0 },
  cursor: { stroke: 'var(--border)', fill: 'var(--accent-soft)' },
};
const legendStyle = { fontSize: 12, color: 'var(--text-muted)' };

function ChartPanel(props: { title: string; explain: ReactNode; height: number; empty: string | null; children: ReactElement; stat?: ReactNode }) {
  return (
    <section className="panel chart-panel" data-testid="chart" aria-label={props.title}>
      <header className="chart-header">
        <h2>{props.title}</h2>
        {props.stat && <span className="chart-stat">{props.stat}</span>}
      </header>
      <p className="muted chart-explain">{props.explain}</p>
      {props.empty ? (
        <p className="chart-empty muted" style={{ height: props.height }}>
          {props.empty}
        </p>
      ) : (
        <div className="chart-body" style={{ height: props.height }}>
          <ResponsiveContainer width="100%" height={props.height}>
            {props.children}
          </ResponsiveContainer>
        </div>
      )}
    </section>
  );
}

function timeAxis(domain: [number, number]) {
  return <XAxis dataKey="at" type="number" domain={domain} ticks={timeTicks(domain)} tickFormatter={clockTime} tick={axisTick} stroke="var(--border)" minTickGap={24} allowDataOverflow />;
}

function ConvergenceTooltip({ active, payload }: { active?: boolean; payload?: ReadonlyArray<{ payload?: ConvergenceBar }> }) {
  const bar = payload?.[0]?.payload;
  if (!active || !bar) return null;
  return (
    <div className="chart-tooltip">
      <div className="muted">{bar.label}</div>
      <div>
        converged <strong>{formatDuration(bar.after)}</strong> after {bar.change}
      </div>
      {bar.children !== null && <div className="muted">{bar.children} children running once</div>}
    </div>
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function convergenceStat(convergence: Convergence[]): ReactNode {
  const last = convergence.at(-1);
  if (!last) return null;
  return (
    <>
      last <strong>{formatDuration(last.after)}</strong>
      {convergence.length > 1 && (
        <>
          {' '}
          · median <strong>{formatDuration(median(convergence.map((c) => c.after)))}</strong> of {convergence.length}
        </>
      )}
    </>
  );
}

/**
 * The history to draw: taken from the store at most once per REDRAW_MS (the
 * cluster patches up to ten times a second, and redrawing four recharts
 * charts costs tens of milliseconds), and again every TICK_MS so that lines
 * reach the present while the cluster is quiet.
 */
function useHistory(): { samples: Sample[]; convergence: Convergence[]; now: number } {
  const read = () => {
    const s = useStore.getState();
    return { samples: s.samples, convergence: s.convergence, now: s.now() };
  };
  const [history, setHistory] = useState(read);
  useEffect(() => {
    let last = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const redraw = (): void => {
      clearTimeout(timer);
      timer = undefined;
      last = performance.now();
      setHistory(read());
    };
    const unsubscribe = useStore.subscribe((s, prev) => {
      if ((s.samples !== prev.samples || s.convergence !== prev.convergence) && timer === undefined) timer = setTimeout(redraw, Math.max(0, last + REDRAW_MS - performance.now()));
    });
    const tick = setInterval(redraw, TICK_MS);
    return () => {
      unsubscribe();
      clearInterval(tick);
      clearTimeout(timer);
    };
  }, []);
  return history;
}

export function Charts() {
  const { samples, convergence, now: at } = useHistory();
  const now = Math.max(at, samples.at(-1)?.until ?? 0);

  const domain = useMemo(() => timeDomain(samples, now), [samples, now]);
  const perNode = useMemo(() => perNodeSeries(samples, now), [samples, now]);
  const members = useMemo(() => membersSeries(samples, now), [samples, now]);
  const rates = useMemo(() => rateSeries(samples, now), [samples, now]);
  const memberTicks = useMemo(() => countTicks(Math.max(0, ...samples.map((s) => s.members))), [samples]);
  const bars = useMemo(() => convergenceBars(convergence, clockTime), [convergence]);
  const enoughTime = domain !== null && samples.length > 0;

  return (
    <section className="charts-view" aria-label="Charts">
      <p className="muted charts-intro">
        Sampled in this window since it connected: a sample when the cluster changes, one per second at most ({samples.length} so far). Convergence times are measured by the gateway.
      </p>
      <div className="charts-grid">
        <ChartPanel title="Children per node" explain="Children running on each member node, stacked: the total stays level while a redistribution shifts the colours." height={220} empty={enoughTime && perNode.nodes.length > 0 ? null : EMPTY}>
          <AreaChart data={perNode.points} margin={{ top: 6, right: 12, bottom: 0, left: -12 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
            {domain && timeAxis(domain)}
            <YAxis allowDecimals={false} tick={axisTick} stroke="var(--border)" />
            <Tooltip {...tooltipStyle} labelFormatter={(at) => clockTime(Number(at))} />
            <Legend wrapperStyle={legendStyle} iconType="square" iconSize={10} itemSorter={null} />
            {perNode.nodes.map((node, i) => (
              <Area key={node} type="stepAfter" name={node} dataKey={(p: NodePoint) => p.values[node] ?? 0} stackId="nodes" stroke={nodeColour(i)} fill={nodeColour(i)} fillOpacity={0.35} strokeWidth={1.5} isAnimationActive={false} />
            ))}
          </AreaChart>
        </ChartPanel>

        <ChartPanel title="Starts, stops and restarts per second" explain="Instances started and stopped anywhere in the cluster (a move is one of each), restarts in place, and start failures, per second." height={220} empty={rates.length > 0 && domain ? null : EMPTY}>
          <ComposedChart data={rates} margin={{ top: 6, right: 12, bottom: 0, left: -12 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
            {domain && timeAxis(domain)}
            <YAxis domain={[0, niceCeil]} tick={axisTick} stroke="var(--border)" />
            <Tooltip {...tooltipStyle} labelFormatter={(at) => clockTime(Number(at))} formatter={(v) => `${String(v)}/s`} />
            <Legend wrapperStyle={legendStyle} iconType="plainline" itemSorter={null} />
            <Area type="stepAfter" dataKey="starts" name="starts" stroke="var(--ok)" fill="var(--ok)" fillOpacity={0.18} strokeWidth={1.5} isAnimationActive={false} />
            <Line type="stepAfter" dataKey="stops" name="stops" stroke="var(--text-muted)" dot={false} strokeWidth={1.5} strokeDasharray="5 3" isAnimationActive={false} />
            <Line type="stepAfter" dataKey="restarts" name="restarts" stroke="var(--warn)" dot={false} strokeWidth={2} isAnimationActive={false} />
            <Line type="stepAfter" dataKey="failures" name="failures" stroke="var(--bad)" dot={false} strokeWidth={2} isAnimationActive={false} />
          </ComposedChart>
        </ChartPanel>

        <ChartPanel title="Members" explain="Member nodes that are up (observers not counted)." height={160} empty={enoughTime ? null : EMPTY}>
          <LineChart data={members} margin={{ top: 6, right: 12, bottom: 0, left: -12 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
            {domain && timeAxis(domain)}
            <YAxis allowDecimals={false} domain={[0, memberTicks.at(-1)!]} ticks={memberTicks} tick={axisTick} stroke="var(--border)" />
            <Tooltip {...tooltipStyle} labelFormatter={(at) => clockTime(Number(at))} />
            <Line type="stepAfter" dataKey="members" name="members up" stroke="var(--accent)" dot={false} strokeWidth={2} isAnimationActive={false} />
          </LineChart>
        </ChartPanel>

        <ChartPanel
          title="Convergence after topology changes"
          explain={
            <>
              Time from a node going down (<span className="swatch swatch-warn" aria-hidden="true" />) or coming up (<span className="swatch swatch-ok" aria-hidden="true" />) until every child runs exactly once again, a bar per change.
            </>
          }
          height={160}
          stat={convergenceStat(convergence)}
          empty={bars.length > 0 ? null : 'No topology change yet: a bar appears when the cluster has settled after a node comes or goes.'}
        >
          <BarChart data={bars} margin={{ top: 18, right: 12, bottom: 0, left: -4 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="key" tickFormatter={(key: string) => bars.find((b) => b.key === key)?.label ?? ''} tick={axisTick} stroke="var(--border)" minTickGap={20} />
            <YAxis tickFormatter={(ms: number) => formatDuration(ms)} tick={axisTick} stroke="var(--border)" width={64} />
            <Tooltip content={<ConvergenceTooltip />} cursor={tooltipStyle.cursor} />
            <Bar dataKey="after" name="convergence" maxBarSize={36} minPointSize={2} isAnimationActive={false}>
              {bars.map((b) => (
                <Cell key={b.key} fill={b.cause === 'node-down' ? 'var(--warn)' : b.cause === 'node-up' ? 'var(--ok)' : 'var(--accent)'} />
              ))}
              {bars.length <= 24 && <LabelList dataKey="after" position="top" formatter={(ms: unknown) => formatDuration(Number(ms)).replace(' ', '\u00a0')} style={{ fill: 'var(--text-muted)', fontSize: 11 }} />}
            </Bar>
          </BarChart>
        </ChartPanel>
      </div>
    </section>
  );
}
