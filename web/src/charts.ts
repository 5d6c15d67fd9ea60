// Chart.js, tree-shaken: only what a stacked bar chart with legend and tooltips needs.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
  type TooltipItem,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);
Chart.defaults.color = "#1f2937";
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

// Dark enough for 3:1 against white (non-text contrast), and told apart by hue.
const PALETTE = [
  "#1d4ed8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c",
  "#0e7490", "#a16207", "#be185d", "#4d7c0f", "#475569",
];

export interface Series {
  label: string;
  values: number[];
}

export interface Bars {
  labels: string[];
  /** Each bar's full name for its tooltip (the bucket's `ts` as the API sent it). */
  titles: string[];
  series: Series[];
  yTitle: string;
}

export function drawBars(canvas: HTMLCanvasElement, bars: Bars): Chart<"bar"> {
  Chart.getChart(canvas)?.destroy();
  const stacked = bars.series.length > 1;
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: bars.labels,
      datasets: bars.series.map((series, i) => ({
        label: series.label,
        data: series.values,
        backgroundColor: PALETTE[i % PALETTE.length] ?? "#1d4ed8",
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked, ticks: { maxRotation: 0, autoSkip: true } },
        y: { stacked, beginAtZero: true, title: { display: true, text: bars.yTitle } },
      },
      plugins: {
        legend: { display: stacked, position: "bottom" },
        tooltip: {
          callbacks: {
            title: (items: TooltipItem<"bar">[]) => bars.titles[items[0]?.dataIndex ?? 0] ?? "",
            footer: (items: TooltipItem<"bar">[]) =>
              stacked ? `Total: ${items.reduce((sum, item) => sum + (item.parsed.y ?? 0), 0)}` : "",
          },
        },
      },
    },
  });
}
