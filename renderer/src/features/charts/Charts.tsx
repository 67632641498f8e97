/**
 * Charts view (recharts): children per node over time; starts, stops,
 * restarts in place, moves and failures per second; members over time; and
 * the convergence time after each topology change. Everything comes from
 * the gateway's history in the cluster state (its per-second samples,
 * counted from events, and its `converged` events) through chart-data.ts:
 * the window keeps nothing, so a reload or a second window draws the same
 * past.
 *
 * The gateway adds a sample a second, so the charts are redrawn about once
 * a second (recharts costs tens of milliseconds for the four). The time
 * charts share one x domain, the gateway's clock. Colours: theme variables
 * for axes and status series, a fixed palette per node.
 */
import { useMemo, type ReactElement, type ReactNode } from 'react';
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  ComposedChart,
  LabelList,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { EventView, SampleView } from 'pogo-core/observer-state';
import { useStore } from '../../store/index';
import { clockTime, formatDuration } from '../../shared/format';
import { chartData, niceCeil, nodeColour, timeTicks, type Convergence, type ConvergenceBar, type NodePoint } from './chart-data';
import { scoped } from '../../shared/scoped';
import styles from './charts.module.css';

const cx = scoped(styles);

const EMPTY = 'The gateway adds a sample every second: the first appears in a moment.';
const NO_SAMPLES: readonly SampleView[] = [];
const NO_EVENTS: readonly EventView[] = [];

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
    <section className={cx('panel chart-panel')} data-testid="chart" aria-label={props.title}>
      <header className={cx('chart-header')}>
        <h2>{props.title}</h2>
        {props.stat && (
          <span className={cx('chart-stat')} data-testid="chart-stat">
            {props.stat}
          </span>
        )}
      </header>
      <p className={cx('muted chart-explain')}>{props.explain}</p>
      {props.empty ? (
        <p className={cx('chart-empty muted')} style={{ height: props.height }}>
          {props.empty}
        </p>
      ) : (
        <div className={cx('chart-body')} style={{ height: props.height }}>
          <ResponsiveContainer width="100%" height={props.height}>
            {props.children}
          </ResponsiveContainer>
        </div>
      )}
    </section>
  );
}

function timeAxis(domain: [number, number]) {
  return (
    <XAxis
      dataKey="at"
      type="number"
      domain={domain}
      ticks={timeTicks(domain)}
      tickFormatter={clockTime}
      tick={axisTick}
      stroke="var(--border)"
      minTickGap={24}
      allowDataOverflow
    />
  );
}

function ConvergenceTooltip({ active, payload }: { active?: boolean; payload?: ReadonlyArray<{ payload?: ConvergenceBar }> }) {
  const bar = payload?.[0]?.payload;
  if (!active || !bar) return null;
  return (
    <div className={cx('chart-tooltip')}>
      <div className={cx('muted')}>{bar.label}</div>
      <div>
        converged <strong>{formatDuration(bar.after)}</strong> after {bar.change}
      </div>
      {bar.children !== null && <div className={cx('muted')}>{bar.children} children running once</div>}
    </div>
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function convergenceStat(convergence: readonly Convergence[]): ReactNode {
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

export function Charts() {
  const samples = useStore((s) => s.cluster?.samples) ?? NO_SAMPLES;
  const events = useStore((s) => s.cluster?.events) ?? NO_EVENTS;
  const { domain, perNode, members, memberTicks, rates, peak, convergence, bars } = useMemo(() => chartData(samples, events), [samples, events]);
  const first = samples[0];
  const minutes = Math.round(samples.length / 60);

  return (
    <section className={cx('charts-view')} aria-label="Charts">
      <p className={cx('muted charts-intro')} data-testid="charts-since">
        Counted by the gateway from the cluster&apos;s events, one sample a second
        {first ? (
          <>
            , since <strong>{clockTime(first.at)}</strong> ({minutes >= 1 ? `the last ${minutes} min` : `${samples.length} s`})
          </>
        ) : null}
        : every window, and this one after a reload, shows the same. Convergence times are measured by the gateway.
      </p>
      <div className={cx('charts-grid')}>
        <ChartPanel
          title="Children per node"
          explain="Children running on each member node, stacked: the total stays level while a redistribution shifts the colours."
          height={220}
          empty={domain && perNode.nodes.length > 0 ? null : EMPTY}
        >
          <AreaChart data={perNode.points} margin={{ top: 6, right: 12, bottom: 0, left: -12 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
            {domain && timeAxis(domain)}
            <YAxis allowDecimals={false} tick={axisTick} stroke="var(--border)" />
            <Tooltip {...tooltipStyle} labelFormatter={(at) => clockTime(Number(at))} />
            <Legend wrapperStyle={legendStyle} iconType="square" iconSize={10} itemSorter={null} />
            {perNode.nodes.map((node, i) => (
              <Area
                key={node}
                type="stepAfter"
                name={node}
                dataKey={(p: NodePoint) => p.values[node] ?? 0}
                stackId="nodes"
                stroke={nodeColour(i)}
                fill={nodeColour(i)}
                fillOpacity={0.35}
                strokeWidth={1.5}
                isAnimationActive={false}
              />
            ))}
          </AreaChart>
        </ChartPanel>

        <ChartPanel
          title="Starts, stops, moves and restarts per second"
          explain={
            'Instances started and stopped anywhere in the cluster, children that moved to another node, ' +
            'restarts in place, and start failures, each counted from the events of that second.'
          }
          height={220}
          stat={
            peak && (
              <>
                peak <strong>{peak.starts.toLocaleString('en-US')}</strong> starts/s at {clockTime(peak.at)}
              </>
            )
          }
          empty={rates.length > 0 && domain ? null : EMPTY}
        >
          <ComposedChart data={rates} margin={{ top: 6, right: 12, bottom: 0, left: -12 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
            {domain && timeAxis(domain)}
            <YAxis domain={[0, niceCeil]} tick={axisTick} stroke="var(--border)" />
            <Tooltip {...tooltipStyle} labelFormatter={(at) => clockTime(Number(at))} formatter={(v) => `${String(v)}/s`} />
            <Legend wrapperStyle={legendStyle} iconType="plainline" itemSorter={null} />
            <Area
              type="stepAfter"
              dataKey="starts"
              name="starts"
              stroke="var(--ok)"
              fill="var(--ok)"
              fillOpacity={0.18}
              strokeWidth={1.5}
              isAnimationActive={false}
            />
            <Line
              type="stepAfter"
              dataKey="stops"
              name="stops"
              stroke="var(--text-muted)"
              dot={false}
              strokeWidth={1.5}
              strokeDasharray="5 3"
              isAnimationActive={false}
            />
            <Line
              type="stepAfter"
              dataKey="moves"
              name="moves"
              stroke="var(--accent)"
              dot={false}
              strokeWidth={1.5}
              strokeDasharray="2 3"
              isAnimationActive={false}
            />
            <Line type="stepAfter" dataKey="restarts" name="restarts" stroke="var(--warn)" dot={false} strokeWidth={2} isAnimationActive={false} />
            <Line type="stepAfter" dataKey="failures" name="failures" stroke="var(--bad)" dot={false} strokeWidth={2} isAnimationActive={false} />
          </ComposedChart>
        </ChartPanel>

        <ChartPanel title="Members" explain="Member nodes that are up (observers not counted)." height={160} empty={domain ? null : EMPTY}>
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
              Time from a node going down (<span className={cx('swatch swatch-warn')} aria-hidden="true" />) or coming up (
              <span className={cx('swatch swatch-ok')} aria-hidden="true" />) until every child runs exactly once again, a bar per change.
            </>
          }
          height={160}
          stat={convergenceStat(convergence)}
          empty={bars.length > 0 ? null : 'No topology change yet: a bar appears when the cluster has settled after a node comes or goes.'}
        >
          <BarChart data={bars} margin={{ top: 18, right: 12, bottom: 0, left: -4 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
            <XAxis
              dataKey="key"
              tickFormatter={(key: string) => bars.find((b) => b.key === key)?.label ?? ''}
              tick={axisTick}
              stroke="var(--border)"
              minTickGap={20}
            />
            <YAxis tickFormatter={(ms: number) => formatDuration(ms)} tick={axisTick} stroke="var(--border)" width={64} />
            <Tooltip content={<ConvergenceTooltip />} cursor={tooltipStyle.cursor} />
            <Bar dataKey="after" name="convergence" maxBarSize={36} minPointSize={2} isAnimationActive={false}>
              {bars.map((b) => (
                <Cell key={b.key} fill={b.cause === 'node-down' ? 'var(--warn)' : b.cause === 'node-up' ? 'var(--ok)' : 'var(--accent)'} />
              ))}
              {bars.length <= 24 && (
                <LabelList
                  dataKey="after"
                  position="top"
                  formatter={(ms: unknown) => formatDuration(Number(ms)).replace(' ', '\u00a0')}
                  style={{ fill: 'var(--text-muted)', fontSize: 11 }}
                />
              )}
            </Bar>
          </BarChart>
        </ChartPanel>
      </div>
    </section>
  );
}
