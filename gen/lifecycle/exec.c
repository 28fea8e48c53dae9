/* gen/lifecycle/exec.c — GENERATED from spec/exec.rl by tools/gen-lifecycle.py
 * (machine compiled by ragel -T0); do not edit. */


#include <stdbool.h>
#include "lifecycle/exec.h"

#pragma GCC diagnostic ignored "-Wunused-const-variable"
#pragma GCC diagnostic ignored "-Wunused-variable"
#define ACT(n) (act_ = ACT_##n)
#define TO(n) (to_ = TO_##n)
#define ACT_create EXEC_A_CREATE
#define ACT_start EXEC_A_START
#define ACT_kill EXEC_A_KILL
#define ACT_delete EXEC_A_DELETE
#define TO_creating EXEC_S_CREATING
#define TO_created EXEC_S_CREATED
#define TO_starting EXEC_S_STARTING
#define TO_running EXEC_S_RUNNING
#define TO_exited EXEC_S_EXITED
#define TO_deleting EXEC_S_DELETING
#define TO_deleted EXEC_S_DELETED


static const char _exec_actions[] = {
	0, 1, 0, 1, 1, 1, 2, 1, 
	3, 1, 4, 1, 5, 1, 6, 1, 
	7, 1, 8, 1, 9, 1, 10
};

static const char _exec_key_offsets[] = {
	0, 0, 1, 3, 5, 7, 10, 11, 
	13
};

static const unsigned char _exec_trans_keys[] = {
	1u, 7u, 8u, 2u, 4u, 7u, 8u, 3u, 
	5u, 6u, 4u, 7u, 8u, 0
};

static const char _exec_single_lengths[] = {
	0, 1, 2, 2, 2, 1, 1, 2, 
	0
};

static const char _exec_range_lengths[] = {
	0, 0, 0, 0, 0, 1, 0, 0, 
	0
};

static const char _exec_index_offsets[] = {
	0, 0, 2, 5, 8, 11, 14, 16, 
	19
};

static const char _exec_indicies[] = {
	0, 1, 2, 3, 1, 4, 5, 1, 
	6, 7, 1, 8, 7, 1, 5, 1, 
	3, 7, 1, 1, 0
};

static const char _exec_trans_targs[] = {
	2, 0, 3, 8, 4, 7, 5, 6, 
	5
};

static const char _exec_trans_actions[] = {
	1, 0, 0, 0, 3, 7, 0, 0, 
	5
};

static const char _exec_to_state_actions[] = {
	0, 0, 9, 11, 13, 15, 17, 19, 
	21
};

static const int exec_start = 1;
static const int exec_first_final = 9;
static const int exec_error = 0;

static const int exec_en_main = 1;




/* Run Ragel's machine from Ragel state `cs` over one event symbol. */
static int run(int cs, int event, int *act, int *to)
{
	unsigned char sym = (unsigned char)event;
	const unsigned char *p = &sym, *pe = p + 1;
	int act_ = WR_LC_NO_ACTION, to_ = -1;
	
	{
	int _klen;
	unsigned int _trans;
	const char *_acts;
	unsigned int _nacts;
	const unsigned char *_keys;

	if ( p == pe )
		goto _test_eof;
	if ( cs == 0 )
		goto _out;
_resume:
	_keys = _exec_trans_keys + _exec_key_offsets[cs];
	_trans = _exec_index_offsets[cs];

	_klen = _exec_single_lengths[cs];
	if ( _klen > 0 ) {
		const unsigned char *_lower = _keys;
		const unsigned char *_mid;
		const unsigned char *_upper = _keys + _klen - 1;
		while (1) {
			if ( _upper < _lower )
				break;

			_mid = _lower + ((_upper-_lower) >> 1);
			if ( (*p) < *_mid )
				_upper = _mid - 1;
			else if ( (*p) > *_mid )
				_lower = _mid + 1;
			else {
				_trans += (unsigned int)(_mid - _keys);
				goto _match;
			}
		}
		_keys += _klen;
		_trans += _klen;
	}

	_klen = _exec_range_lengths[cs];
	if ( _klen > 0 ) {
		const unsigned char *_lower = _keys;
		const unsigned char *_mid;
		const unsigned char *_upper = _keys + (_klen<<1) - 2;
		while (1) {
			if ( _upper < _lower )
				break;

			_mid = _lower + (((_upper-_lower) >> 1) & ~1);
			if ( (*p) < _mid[0] )
				_upper = _mid - 2;
			else if ( (*p) > _mid[1] )
				_lower = _mid + 2;
			else {
				_trans += (unsigned int)((_mid - _keys)>>1);
				goto _match;
			}
		}
		_trans += _klen;
	}

_match:
	_trans = _exec_indicies[_trans];
	cs = _exec_trans_targs[_trans];

	if ( _exec_trans_actions[_trans] == 0 )
		goto _again;

	_acts = _exec_actions + _exec_trans_actions[_trans];
	_nacts = (unsigned int) *_acts++;
	while ( _nacts-- > 0 )
	{
		switch ( *_acts++ )
		{
	case 0:
	{ ACT(create); }
	break;
	case 1:
	{ ACT(start); }
	break;
	case 2:
	{ ACT(kill); }
	break;
	case 3:
	{ ACT(delete); }
	break;
		}
	}

_again:
	_acts = _exec_actions + _exec_to_state_actions[cs];
	_nacts = (unsigned int) *_acts++;
	while ( _nacts-- > 0 ) {
		switch ( *_acts++ ) {
	case 4:
	{ TO(creating); }
	break;
	case 5:
	{ TO(created); }
	break;
	case 6:
	{ TO(starting); }
	break;
	case 7:
	{ TO(running); }
	break;
	case 8:
	{ TO(exited); }
	break;
	case 9:
	{ TO(deleting); }
	break;
	case 10:
	{ TO(deleted); }
	break;
		}
	}

	if ( cs == 0 )
		goto _out;
	if ( ++p != pe )
		goto _resume;
	_test_eof: {}
	_out: {}
	}

	*act = act_;
	*to = to_;
	return cs;
}

/* Filled by wr_lc_step() on first use (src/core/lifecycle.c). */
static int cs_of[EXEC_N_STATES] = { -1 };

static const char *const state_names[] = {"absent", "creating", "created", "starting", "running", "exited", "deleting", "deleted"};
static const char *const event_names[] = {"(none)", "Create", "Start", "Kill", "Delete", "Exit", "Lost", "Done", "Failed"};
static const char *const action_names[] = {"create", "start", "kill", "delete"};
static const bool transient[] = {false, true, false, true, false, false, true, false};
static const bool terminal[] = {false, false, false, false, false, false, false, true};

/* The chart as the generator read it, independently of Ragel. */
static const struct wr_transition model[] = {
	{ EXEC_S_ABSENT, EXEC_E_CREATE, EXEC_A_CREATE, EXEC_S_CREATING },
	{ EXEC_S_CREATING, EXEC_E_DONE, WR_LC_NO_ACTION, EXEC_S_CREATED },
	{ EXEC_S_CREATING, EXEC_E_FAILED, WR_LC_NO_ACTION, EXEC_S_DELETED },
	{ EXEC_S_CREATED, EXEC_E_START, EXEC_A_START, EXEC_S_STARTING },
	{ EXEC_S_CREATED, EXEC_E_DELETE, EXEC_A_DELETE, EXEC_S_DELETING },
	{ EXEC_S_STARTING, EXEC_E_DONE, WR_LC_NO_ACTION, EXEC_S_RUNNING },
	{ EXEC_S_STARTING, EXEC_E_FAILED, WR_LC_NO_ACTION, EXEC_S_EXITED },
	{ EXEC_S_RUNNING, EXEC_E_KILL, EXEC_A_KILL, EXEC_S_RUNNING },
	{ EXEC_S_RUNNING, EXEC_E_EXIT, WR_LC_NO_ACTION, EXEC_S_EXITED },
	{ EXEC_S_RUNNING, EXEC_E_LOST, WR_LC_NO_ACTION, EXEC_S_EXITED },
	{ EXEC_S_EXITED, EXEC_E_DELETE, EXEC_A_DELETE, EXEC_S_DELETING },
	{ EXEC_S_DELETING, EXEC_E_DONE, WR_LC_NO_ACTION, EXEC_S_DELETED },
	{ EXEC_S_DELETING, EXEC_E_FAILED, WR_LC_NO_ACTION, EXEC_S_EXITED },
};

const struct wr_lifecycle wr_lifecycle_exec = {
	.name = "exec",
	.n_states = EXEC_N_STATES,
	.n_events = EXEC_N_EVENTS,
	.n_actions = EXEC_N_ACTIONS,
	.state_names = state_names,
	.event_names = event_names,
	.action_names = action_names,
	.transient = transient,
	.terminal = terminal,
	.initial = EXEC_S_ABSENT,
	.ev_done = EXEC_E_DONE,
	.ev_failed = EXEC_E_FAILED,
	.run = run,
	.start_cs = exec_start,
	.error_cs = exec_error,
	.cs_of = cs_of,
	.model = model,
	.n_model = 13,
};
