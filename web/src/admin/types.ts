// The shapes of the administration routes (docs/openapi.yaml: /api/v1/config..., /api/v1/users...).

export interface ConfigDocument {
  version: number;
  applied_at: string | null;
  applied_by: string;
  comment: string;
  yaml?: string;
}

export interface ConfigChange {
  section: string;
  item: string;
  change: "added" | "removed" | "changed";
}

export interface ApplyResult {
  version: number;
  applied: boolean;
  dry_run: boolean;
  changes: ConfigChange[];
}

/** One problem of an invalid configuration (422); `field` for a queue edit. */
export interface ConfigProblem {
  line: number;
  column: number;
  message: string;
  field?: string;
}

export interface EscalationStep {
  after: number | string;
  skills?: Record<string, number>;
  teams?: string[];
  priority_boost?: number;
  overflow?: string;
  flow?: string;
}

export interface QueueSettings {
  name: string;
  version: number;
  strategy: string;
  service_level: { target: number; seconds: number };
  priority: number;
  max_wait: number;
  max_size: number;
  offer_timeout: number;
  wrap_up: number;
  escalation: EscalationStep[];
}

export interface User {
  id: number;
  login: string;
  display_name: string;
  roles: string[];
  team: string;
  agent: string;
  disabled: boolean;
  has_password: boolean;
  has_sip_credentials: boolean;
}
