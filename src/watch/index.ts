// The watchdog's engine (issue 15): inventory, health scan, findings, resumable scan. Pure over
// the ArmGateway port; the store, the jobs and the channels are wired by the app.
export { INVENTORY_QUERY, WATCHED_TYPES, dependentsOf, inScope, inventory, inventoryWithSource, mapLimit, visibleSubscriptions, isCmkDependent, toCmkResource, type CmkResource, type InventoryResult } from './inventory';
export { HEALTH_CHECK_IDS, healthChecks, keyVersionBehind, scanHealth, type HealthOptions, type ResourceHealth } from './health';
export { diffFindings, findingKey, findingsOf, groupByKey, keyIdOf, unjudged, type DiffOptions, type Finding, type FindingSubject, type FindingsDiff, type KeyAlert, type Severity } from './findings';
export { judgeResources, notJudgedIn, runScan, scanStep, startScan, type ScanCursor, type ScanStepOptions, type ScanStepResult } from './scan';
export { scanReads, type ScanReads } from './scan-reads';
