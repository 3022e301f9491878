export { barChart, type Bar, type BarChartInput } from './bar-chart';
export { lineChart, type LineChartInput } from './line-chart';
export { escapeXml, niceScale } from './svg-text';
export { campaignStatusChart } from './campaign-status-chart';
