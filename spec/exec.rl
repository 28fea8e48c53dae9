# spec/exec.rl — the lifecycle of an exec process inside a task, as a Ragel
# state chart.  Conventions: see spec/sandbox.rl.
%%{
	machine exec;
	alphtype unsigned char;

	# Task API calls addressed to an exec id
	Create = 1;   # Exec
	Start  = 2;
	Kill   = 3;
	Delete = 4;
	# world events
	Exit   = 5;
	Lost   = 6;
	# outcome of the backend action
	Done   = 7;
	Failed = 8;

	action create { ACT(create); }
	action start  { ACT(start); }
	action kill   { ACT(kill); }
	action delete { ACT(delete); }

	action in_creating { TO(creating); }
	action in_created  { TO(created); }
	action in_starting { TO(starting); }
	action in_running  { TO(running); }
	action in_exited   { TO(exited); }
	action in_deleting { TO(deleting); }
	action in_deleted  { TO(deleted); }

	main := (
		start: (
			Create @create -> creating
		),
		creating: (
			Done -> created |
			Failed -> deleted
		) >~in_creating,
		created: (
			Start @start -> starting |
			Delete @delete -> deleting
		) >~in_created,
		starting: (
			Done -> running |
			Failed -> exited            # could not exec: reported as an exit
		) >~in_starting,
		running: (
			Kill @kill -> running |
			Exit -> exited |
			Lost -> exited
		) >~in_running,
		exited: (
			Delete @delete -> deleting
		) >~in_exited,
		deleting: (
			Done -> deleted |
			Failed -> exited
		) >~in_deleting,
		deleted: (
			zlen
		) >~in_deleted
	);
}%%
