/**
 * The Resources section of the node detail: the node's CPU, memory and
 * event-loop lag now, and charts of the last ten minutes (recharts), from
 * the gateway's series for the node (resources-data.ts).
 *
 * Where they come from: a member samples its own process every 2 s while
 * an observer is linked to it and sends the figures to it (core
 * resources.ts); the observer's gateway samples itself the same way. CPU is
 * the process's CPU time over the interval in % of one core; memory its
 * resident set (and the V8 heap in use); lag how late its event loop ran a
 * timer (mean and worst over the interval).
 *
 * A node that is down or out of reach, or stopped reporting, keeps its last
 * figures on screen, dimmed and tagged stale with the reason.
 */
import type { ReactElement } from 'react';
import { Area, AreaChart, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { MemberView } from 'pogo-core/observer-state';
import { useStore } from '../../store/index';
import { clockTime } from '../../shared/format';
import { timeTicks } from '../charts/chart-data';
import { currentFigures, formatBytes, formatCpu, formatLag, gatewayNow, resourceChart, type ResourceChartPoint } from './resources-data';
import { scoped } from '../../shared/scoped';
import detail from '../../shared/detail.module.css';
import styles from './resources.module.css';

// A section of the node panel: the detail panels' section classes, then its own.
const cx = scoped({ ...detail, ...styles });

const axisTick = { fill: 'var(--text-muted)', fontSize: 10 };
const tooltipStyle = {
  contentStyle: { background: 'var(--surface)', border: '1px solid var(--border)', borderRadius: 6, color: 'var(--text)', fontSize: 12 },
  labelStyle: { color: 'var(--text-muted)' },
  itemStyle: { padding: 0 },
};
const CHART_HEIGHT = 84;

function Tile(props: { label: string; value: string; detail: string; testid: string; raw: number | null }) {
  return (
    <div className={cx('resource-tile')} data-testid={props.testid} data-value={props.raw ?? ''}>
      <div className={cx('resource-label')}>{props.label}</div>
      <div className={cx('resource-value')} data-testid="resource-value">
        {props.value}
      </div>
      <div className={cx('resource-detail muted')} data-testid="resource-detail">
        {props.detail}
      </div>
    </div>
  );
}

function MiniChart(props: {
  title: string;
  domain: [number, number];
  points: ResourceChartPoint[];
  unit: string;
  children: ReactElement[] | ReactElement;
  kind: 'line' | 'area';
  testid: string;
}) {
  const Chart = props.kind === 'area' ? AreaChart : LineChart;
  return (
    <figure className={cx('resource-chart')} data-testid={props.testid} aria-label={`${props.title} over time`}>
      <figcaption className={cx('muted')}>{props.title}</figcaption>
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <Chart data={props.points} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
          <XAxis
            dataKey="at"
            type="number"
            domain={props.domain}
            ticks={timeTicks(props.domain, 3)}
            tickFormatter={clockTime}
            tick={axisTick}
            stroke="var(--border)"
            allowDataOverflow
          />
          <YAxis tick={axisTick} stroke="var(--border)" width={40} domain={[0, 'auto']} tickFormatter={(v: number) => `${Number(v.toPrecision(3))}`} />
          <Tooltip
            {...tooltipStyle}
            labelFormatter={(at) => clockTime(Number(at))}
            formatter={(v) => (v === null || v === undefined ? '—' : `${Number(Number(v).toPrecision(3))} ${props.unit}`)}
          />
          {props.children}
        </Chart>
      </ResponsiveContainer>
    </figure>
  );
}

export function NodeResources({ member }: { member: MemberView }) {
  const view = useStore((s) => s.cluster?.resources[member.name]);
  const samples = useStore((s) => s.cluster?.samples);
  const figures = currentFigures(view, member, gatewayNow(samples ?? []));
  const chart = resourceChart(view);

  if (!figures) {
    return (
      <section className={cx('detail-section')} aria-label="Resources">
        <h3>Resources</h3>
        <p className={cx('muted')} data-testid="resources-none">
          No CPU, memory or event-loop figures from {member.name} yet. A member sends them every 2 s while an observer is linked to it; one of a release before
          protocol 2.2, or one this observer has no link to, sends none.
        </p>
      </section>
    );
  }
  const p = figures.point;
  return (
    <section className={cx(`detail-section resources${figures.stale ? ' stale' : ''}`)} aria-label="Resources">
      <div className={cx('section-head')}>
        <h3>Resources</h3>
        {figures.stale ? (
          <span className={cx('tag warn')} data-testid="resources-stale" title={figures.stale}>
            stale
          </span>
        ) : (
          <span className={cx('muted resource-when')}>at {clockTime(p.at)}</span>
        )}
      </div>
      {figures.stale && (
        <p className={cx('warn-text resource-stale-why')} role="status">
          Stale: {figures.stale} (from {clockTime(p.at)}).
        </p>
      )}
      <div className={cx('resource-tiles')}>
        <Tile testid="resource-cpu" label="CPU" value={formatCpu(p.cpu)} raw={p.cpu} detail="of one core" />
        <Tile
          testid="resource-memory"
          label="Memory"
          value={formatBytes(p.rss)}
          raw={p.rss}
          detail={`resident · heap ${formatBytes(p.heapUsed)} of ${formatBytes(p.heapTotal)}`}
        />
        <Tile
          testid="resource-lag"
          label="Event-loop lag"
          value={formatLag(p.lagMean)}
          raw={p.lagMean}
          detail={`mean · p99 ${formatLag(p.lagP99)} · max ${formatLag(p.lagMax)}`}
        />
      </div>
      {chart.domain ? (
        <div className={cx('resource-charts')}>
          <MiniChart title="CPU, % of one core" testid="resource-chart-cpu" domain={chart.domain} points={chart.points} unit="%" kind="line">
            <Line type="linear" dataKey="cpu" name="CPU" stroke="var(--accent)" dot={false} strokeWidth={1.5} isAnimationActive={false} />
          </MiniChart>
          <MiniChart
            title="Memory, MiB (resident, heap in use)"
            testid="resource-chart-memory"
            domain={chart.domain}
            points={chart.points}
            unit="MiB"
            kind="area"
          >
            <Area
              type="linear"
              dataKey="rss"
              name="resident"
              stroke="var(--ok)"
              fill="var(--ok)"
              fillOpacity={0.15}
              strokeWidth={1.5}
              isAnimationActive={false}
            />
            <Area
              type="linear"
              dataKey="heapUsed"
              name="heap"
              stroke="var(--text-muted)"
              fill="none"
              strokeDasharray="4 3"
              strokeWidth={1.2}
              isAnimationActive={false}
            />
          </MiniChart>
          <MiniChart title="Event-loop lag, ms (mean, max)" testid="resource-chart-lag" domain={chart.domain} points={chart.points} unit="ms" kind="line">
            <Line type="linear" dataKey="lagMean" name="mean" stroke="var(--warn)" dot={false} strokeWidth={1.5} connectNulls isAnimationActive={false} />
            <Line
              type="linear"
              dataKey="lagMax"
              name="max"
              stroke="var(--bad)"
              dot={false}
              strokeWidth={1}
              strokeDasharray="3 3"
              connectNulls
              isAnimationActive={false}
            />
          </MiniChart>
        </div>
      ) : (
        <p className={cx('muted')}>The charts start with the next figures (every {Math.round((view?.intervalMs ?? 2_000) / 1_000)} s).</p>
      )}
    </section>
  );
}
