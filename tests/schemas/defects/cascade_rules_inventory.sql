-- cascade_rules_inventory: a delete graph to document (cascade two levels deep, set null, restrict)
create table s2_ci_accounts (id bigint generated always as identity primary key, name text not null);
create table s2_ci_projects (
  id bigint generated always as identity primary key,
  account_id bigint not null references s2_ci_accounts (id) on delete cascade
);
create index s2_ci_projects_account_id_idx on s2_ci_projects (account_id);
create table s2_ci_tasks (
  id bigint generated always as identity primary key,
  project_id bigint not null references s2_ci_projects (id) on delete cascade,
  assignee_id bigint references s2_ci_accounts (id) on delete set null
);
create index s2_ci_tasks_project_id_idx on s2_ci_tasks (project_id);
create index s2_ci_tasks_assignee_id_idx on s2_ci_tasks (assignee_id);
