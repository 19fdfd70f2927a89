import type { CompanyProject } from "../bindings/CompanyProject";

/** Which company project the next cloud call is charged to; shown only when the quota server
 *  allows the user some. "No project" charges the user and the team only. */
export function ProjectPicker({
  projects,
  value,
  onChange,
}: {
  projects: CompanyProject[];
  value: string | null;
  onChange(projectId: string | null): void;
}) {
  if (projects.length === 0) return null;
  return (
    <label class="project-picker">
      Charge to{" "}
      <select
        data-testid="project-picker"
        value={value ?? ""}
        onChange={(e) => {
          const picked = (e.target as HTMLSelectElement).value;
          onChange(picked === "" ? null : picked);
        }}
      >
        <option value="">No project</option>
        {projects.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
    </label>
  );
}
